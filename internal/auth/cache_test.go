package auth

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roost/internal/pwscheme"
)

// countingPassdb is a cached passdb (CacheKeyer) that counts driver calls;
// passwords can be changed under the cache.
type countingPassdb struct {
	mu    sync.Mutex // guards users
	users map[string]string
	calls atomic.Int32
}

func (c *countingPassdb) CacheKey() string { return CacheKeyOf("%u", "%s") }

func (c *countingPassdb) get(user string) (string, bool) {
	c.calls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	pw, ok := c.users[user]
	return pw, ok
}

func (c *countingPassdb) set(user, pw string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users[user] = pw
}

func (c *countingPassdb) VerifyPlain(ctx context.Context, req *Request, pw string) PassResult {
	stored, ok := c.get(req.User)
	if !ok {
		return PassResult{Status: UserUnknown}
	}
	f := Fields{"userdb_home": "/home/" + req.User, "reason": "x"}
	st, err := req.VerifyPassword(ctx, pw, stored, "PLAIN", f)
	return PassResult{Status: st, Fields: f, Order: []string{"userdb_home", "reason"}, Err: err}
}

func (c *countingPassdb) LookupCredentials(_ context.Context, req *Request) PassResult {
	stored, ok := c.get(req.User)
	if !ok {
		return PassResult{Status: UserUnknown}
	}
	return PassResult{Status: OK, Password: stored, Scheme: "PLAIN", Fields: Fields{}}
}

type cacheClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *cacheClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *cacheClock) Add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func cachedAuth(t *testing.T, db *countingPassdb, clk *cacheClock) *Auth {
	return newAuth(t, Options{Passdbs: []PassdbConfig{{Name: "count", Driver: db}},
		Userdbs:   []UserdbConfig{{Name: "u", Driver: memUserdb{users: map[string]Fields{}}}},
		CacheSize: 1 << 20, CacheTTL: time.Hour, CacheNegativeTTL: time.Minute, Now: clk.Now})
}

func TestCachePositive(t *testing.T) {
	t.Parallel()
	db := &countingPassdb{users: map[string]string{"alice": "{SHA512-CRYPT}" + mustHash(t, "SHA512-CRYPT", "pw")}}
	clk := &cacheClock{t: time.Unix(1_700_000_000, 0)}
	a := cachedAuth(t, db, clk)
	for i := range 3 {
		if r := a.VerifyPlain(context.Background(), req("alice"), "pw"); r.Status != OK {
			t.Fatalf("login %d: %v", i, r.Status)
		} else if r.Userdb["home"] != "/home/alice" {
			t.Fatalf("login %d: fields from the cache lost: %v", i, r.Userdb)
		}
	}
	if n := db.calls.Load(); n != 1 {
		t.Errorf("driver called %d times, want 1 (then the cached hash)", n)
	}
	// A wrong password after a success goes back to the database (the
	// password may have changed); the next wrong one is answered from
	// the cache.
	if r := a.VerifyPlain(context.Background(), req("alice"), "bad"); r.Status != PasswordMismatch {
		t.Fatalf("wrong password: %v", r.Status)
	}
	if r := a.VerifyPlain(context.Background(), req("alice"), "bad"); r.Status != PasswordMismatch {
		t.Fatalf("wrong password again: %v", r.Status)
	}
	if n := db.calls.Load(); n != 2 {
		t.Errorf("driver called %d times, want 2", n)
	}
	// Another service is another cache key (the key has %s).
	r := req("alice")
	r.Service = "pop3"
	a.VerifyPlain(context.Background(), r, "pw")
	if n := db.calls.Load(); n != 3 {
		t.Errorf("driver called %d times after another service, want 3", n)
	}
	// Password changed in the database: after the TTL the new one works.
	db.set("alice", "{PLAIN}new")
	clk.Add(2 * time.Hour)
	if r := a.VerifyPlain(context.Background(), req("alice"), "new"); r.Status != OK {
		t.Fatalf("after the TTL: %v", r.Status)
	}
	if st := a.CacheStats(); st.Entries == 0 || st.Hits == 0 {
		t.Errorf("stats: %+v", st)
	}
}

func TestCacheNegativeAndFlush(t *testing.T) {
	t.Parallel()
	db := &countingPassdb{users: map[string]string{"alice": "{PLAIN}pw"}}
	clk := &cacheClock{t: time.Unix(1_700_000_000, 0)}
	a := cachedAuth(t, db, clk)
	for range 2 {
		if r := a.VerifyPlain(context.Background(), req("ghost"), "x"); r.Status != UserUnknown {
			t.Fatalf("ghost: %v", r.Status)
		}
	}
	if n := db.calls.Load(); n != 1 {
		t.Fatalf("driver called %d times for an unknown user, want 1", n)
	}
	db.set("ghost", "{PLAIN}x")
	if r := a.VerifyPlain(context.Background(), req("ghost"), "x"); r.Status != UserUnknown {
		t.Fatalf("negative entry not used: %v", r.Status)
	}
	clk.Add(2 * time.Minute) // past auth_cache_negative_ttl
	if r := a.VerifyPlain(context.Background(), req("ghost"), "x"); r.Status != OK {
		t.Fatalf("after the negative TTL: %v", r.Status)
	}
	a.VerifyPlain(context.Background(), req("alice"), "pw")
	if n := a.FlushCache([]string{"ALICE"}); n != 1 {
		t.Errorf("flush alice removed %d entries, want 1", n)
	}
	if n := a.FlushCache(nil); n != 1 {
		t.Errorf("flush all removed %d entries, want 1 (ghost)", n)
	}
	before := db.calls.Load()
	a.VerifyPlain(context.Background(), req("alice"), "pw")
	if db.calls.Load() != before+1 {
		t.Error("flushed entry still answered")
	}
}

func TestCacheKeyOf(t *testing.T) {
	t.Parallel()
	got := CacheKeyOf("SELECT password FROM users WHERE userid = '%n' AND domain = '%d' AND svc='%{service}' AND x='%n' AND y=100%%", "%Lu")
	if want := "%n\t%d\t%{service}\t%Lu"; got != want {
		t.Errorf("CacheKeyOf = %q, want %q", got, want)
	}
}

func mustHash(t *testing.T, scheme, pw string) string {
	t.Helper()
	h, err := pwscheme.Generate(scheme, pw, "", 5000)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pwscheme.Parse(h, "")
	if err != nil {
		t.Fatal(err)
	}
	return p.Value
}

// gatePassdb checks passwords through req.VerifyPassword; users whose hash
// is slow (SHA512-CRYPT) hold a worker until released.
type gatePassdb struct {
	hashes  map[string]string
	entered chan string   // a slow check got a worker
	release chan struct{} // closed to let slow checks finish
}

func (g *gatePassdb) VerifyPlain(ctx context.Context, req *Request, pw string) PassResult {
	stored := g.hashes[req.User]
	if pwscheme.Slow(stored, "") {
		// Hold the worker slot the way an expensive hash does: the pool
		// runs this wrapper through VerifyPassword's slow path.
		var st Status
		var err error
		perr := req.pool.run(ctx, func() {
			g.entered <- req.User
			<-g.release
			ok, e := pwscheme.VerifyDefault(pw, stored, req.User, "")
			st, err = PasswordMismatch, e
			if ok {
				st = OK
			}
		})
		if perr != nil {
			return PassResult{Status: InternalFail, Err: perr}
		}
		return PassResult{Status: st, Err: err}
	}
	st, err := req.VerifyPassword(ctx, pw, stored, "", nil)
	return PassResult{Status: st, Err: err}
}

func (g *gatePassdb) LookupCredentials(context.Context, *Request) PassResult {
	return PassResult{Status: InternalFail}
}

// TestSlowHashesQueueFastLoginsDoNot: with one worker, a SHA512-CRYPT
// check in progress and another queued behind it, a login with a cheap
// scheme completes; then the slow ones finish in order.
func TestSlowHashesQueueFastLoginsDoNot(t *testing.T) {
	t.Parallel()
	slow := "{SHA512-CRYPT}" + mustHash(t, "SHA512-CRYPT", "pw")
	g := &gatePassdb{
		hashes:  map[string]string{"s1": slow, "s2": slow, "fast": "{SSHA256}" + mustHash(t, "SSHA256", "pw")},
		entered: make(chan string, 2), release: make(chan struct{}),
	}
	queued := make(chan struct{}, 2)
	a := newAuth(t, Options{Passdbs: []PassdbConfig{{Name: "gate", Driver: g}},
		Userdbs: []UserdbConfig{{Name: "u", Driver: memUserdb{}}}, Workers: 1})
	a.pool.onQueue = func() { queued <- struct{}{} }
	results := make(chan Status, 2)
	for _, u := range []string{"s1", "s2"} {
		go func() { results <- a.VerifyPlain(context.Background(), req(u), "pw").Status }()
	}
	first := <-g.entered // one slow check holds the only worker
	<-queued             // the other waits for it
	if a.pool.Queued() != 1 {
		t.Fatalf("queued = %d, want 1", a.pool.Queued())
	}
	if r := a.VerifyPlain(context.Background(), req("fast"), "pw"); r.Status != OK {
		t.Fatalf("fast login while the slow ones wait: %v", r.Status)
	}
	if r := a.VerifyPlain(context.Background(), req("fast"), "nope"); r.Status != PasswordMismatch {
		t.Fatalf("fast wrong password: %v", r.Status)
	}
	close(g.release)
	second := <-g.entered
	if first == second {
		t.Fatalf("same user entered twice: %s", first)
	}
	for range 2 {
		if st := <-results; st != OK {
			t.Errorf("slow login: %v", st)
		}
	}
}

// TestSlowHashRunsInPool: a real SHA512-CRYPT check goes through the pool
// (it queues when the only worker is taken) and a queued check gives up
// when its context ends.
func TestSlowHashRunsInPool(t *testing.T) {
	t.Parallel()
	db := &countingPassdb{users: map[string]string{"alice": "{SHA512-CRYPT}" + mustHash(t, "SHA512-CRYPT", "pw")}}
	a := newAuth(t, Options{Passdbs: []PassdbConfig{{Name: "count", Driver: db}},
		Userdbs: []UserdbConfig{{Name: "u", Driver: memUserdb{}}}, Workers: 1})
	hold, held := make(chan struct{}), make(chan struct{})
	go a.pool.run(context.Background(), func() { close(held); <-hold })
	<-held
	ctx, cancel := context.WithCancel(context.Background())
	a.pool.onQueue = cancel
	if r := a.VerifyPlain(ctx, req("alice"), "pw"); r.Status != InternalFail {
		t.Errorf("queued check with its context ended: %v, want internal failure", r.Status)
	}
	close(hold)
	a.pool.onQueue = nil
	if r := a.VerifyPlain(context.Background(), req("alice"), "pw"); r.Status != OK {
		t.Errorf("after the worker is free: %v", r.Status)
	}
}
