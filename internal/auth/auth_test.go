package auth

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

// memPassdb is an in-memory passdb: user -> "{SCHEME}password fields...".
type memPassdb struct {
	users map[string]memUser
	fail  bool // every lookup is an internal failure
	calls *[]string
	name  string
}

type memUser struct {
	password string
	fields   Fields
}

func (m memPassdb) lookup(req *Request) (memUser, PassResult, bool) {
	if m.calls != nil {
		*m.calls = append(*m.calls, m.name+":"+req.User)
	}
	if m.fail {
		return memUser{}, PassResult{Status: InternalFail, Err: errors.New("db down")}, false
	}
	u, ok := m.users[req.User]
	if !ok {
		return memUser{}, PassResult{Status: UserUnknown}, false
	}
	return u, PassResult{}, true
}

func (m memPassdb) VerifyPlain(ctx context.Context, req *Request, pw string) PassResult {
	u, res, ok := m.lookup(req)
	if !ok {
		return res
	}
	st, err := req.VerifyPassword(ctx, pw, u.password, "PLAIN", u.fields)
	return PassResult{Status: st, Fields: u.fields.Clone(), Err: err}
}

func (m memPassdb) LookupCredentials(_ context.Context, req *Request) PassResult {
	u, res, ok := m.lookup(req)
	if !ok {
		return res
	}
	return PassResult{Status: OK, Password: u.password, Scheme: "PLAIN", Fields: u.fields.Clone()}
}

type memUserdb struct {
	users map[string]Fields
	fail  bool
}

func (m memUserdb) LookupUser(_ context.Context, req *Request) UserResult {
	if m.fail {
		return UserResult{Status: InternalFail, Err: errors.New("db down")}
	}
	f, ok := m.users[req.User]
	if !ok {
		return UserResult{Status: UserUnknown}
	}
	return UserResult{Status: OK, Fields: f.Clone()}
}

func (m memUserdb) IterateUsers(_ context.Context, fn func(string) error) error {
	for u := range m.users {
		if err := fn(u); err != nil {
			return err
		}
	}
	return nil
}

var (
	alice = memUser{password: "{PLAIN}secret", fields: Fields{"userdb_home": "/home/alice"}}
	dbA   = memPassdb{name: "a", users: map[string]memUser{"alice@example.org": alice}}
	dbB   = memPassdb{name: "b", users: map[string]memUser{"bob@example.org": {password: "{PLAIN}bobpw", fields: Fields{"nodelay": ""}}}}
	down  = memPassdb{name: "down", fail: true}
)

func newAuth(t *testing.T, o Options) *Auth {
	t.Helper()
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func req(user string) *Request {
	return &Request{Service: "imap", User: user, Remote: netip.MustParseAddrPort("192.0.2.7:5555"), Mechanism: "PLAIN"}
}

func TestPassdbChain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dbs      []PassdbConfig
		user, pw string
		want     Status
	}{
		{"ok", []PassdbConfig{{Name: "a", Driver: dbA}}, "alice@example.org", "secret", OK},
		{"mismatch", []PassdbConfig{{Name: "a", Driver: dbA}}, "alice@example.org", "wrong", PasswordMismatch},
		{"unknown", []PassdbConfig{{Name: "a", Driver: dbA}}, "nobody@example.org", "x", UserUnknown},
		{"second passdb", []PassdbConfig{{Name: "a", Driver: dbA}, {Name: "b", Driver: dbB}}, "bob@example.org", "bobpw", OK},
		{"internal then unknown is internal", []PassdbConfig{{Name: "down", Driver: down}, {Name: "a", Driver: dbA}}, "nobody@example.org", "x", InternalFail},
		{"unknown then internal is internal", []PassdbConfig{{Name: "a", Driver: dbA}, {Name: "down", Driver: down}}, "nobody@example.org", "x", InternalFail},
		{"internal then ok", []PassdbConfig{{Name: "down", Driver: down}, {Name: "a", Driver: dbA}}, "alice@example.org", "secret", OK},
		{"internal return-fail", []PassdbConfig{{Name: "down", Driver: down, ResultInternalFail: RuleReturnFail}, {Name: "a", Driver: dbA}}, "alice@example.org", "secret", InternalFail},
		{"failure return", []PassdbConfig{{Name: "a", Driver: dbA, ResultFailure: RuleReturn}, {Name: "b", Driver: dbB}}, "bob@example.org", "bobpw", UserUnknown},
		{"deny hit", []PassdbConfig{{Name: "deny", Driver: dbB, Deny: true}, {Name: "b", Driver: dbB}}, "bob@example.org", "bobpw", UserDisabled},
		{"deny miss", []PassdbConfig{{Name: "deny", Driver: dbA, Deny: true}, {Name: "b", Driver: dbB}}, "bob@example.org", "bobpw", OK},
		{"deny down", []PassdbConfig{{Name: "deny", Driver: down, Deny: true}, {Name: "b", Driver: dbB}}, "bob@example.org", "bobpw", InternalFail},
		{"all skipped", []PassdbConfig{{Name: "a", Driver: dbA, Skip: SkipUnauthenticated}}, "alice@example.org", "secret", InternalFail},
		{"mechanism filter", []PassdbConfig{{Name: "a", Driver: dbA, Mechanisms: []string{"cram-md5"}}, {Name: "b", Driver: dbB}}, "alice@example.org", "secret", UserUnknown},
		{"bad username", []PassdbConfig{{Name: "a", Driver: dbA}}, "al ice", "secret", UserUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAuth(t, Options{Passdbs: tt.dbs, UsernameFormat: DefaultUsernameFormat, UsernameChars: DefaultUsernameChars})
			res := a.VerifyPlain(context.Background(), req(tt.user), tt.pw)
			if res.Status != tt.want {
				t.Fatalf("status = %v (err %v), want %v", res.Status, res.Err, tt.want)
			}
		})
	}
}

func TestContinueSkipsPasswordCheck(t *testing.T) {
	t.Parallel()
	// First passdb checks the password and continues; the second only adds
	// fields (its own stored password differs).
	other := memPassdb{name: "c", users: map[string]memUser{"alice@example.org": {password: "{PLAIN}other", fields: Fields{"proxy": "", "host": "10.0.0.1"}}}}
	var calls []string
	first := dbA
	first.calls = &calls
	a := newAuth(t, Options{Passdbs: []PassdbConfig{
		{Name: "a", Driver: first, ResultSuccess: RuleContinueOK},
		{Name: "c", Driver: other, Skip: SkipUnauthenticated},
	}})
	res := a.VerifyPlain(context.Background(), req("alice@example.org"), "secret")
	if res.Status != OK || res.Fields["host"] != "10.0.0.1" || !res.Fields.Has("proxy") || res.Userdb["home"] != "/home/alice" {
		t.Fatalf("res = %+v", res)
	}
	// A wrong password makes the first fail; the second is skipped
	// (unauthenticated) and the chain fails.
	res = a.VerifyPlain(context.Background(), req("alice@example.org"), "other")
	if res.Status != PasswordMismatch || res.Fields != nil {
		t.Fatalf("wrong password: %+v", res)
	}
}

func TestFailedPassdbFieldsDropped(t *testing.T) {
	t.Parallel()
	leaky := memPassdb{users: map[string]memUser{"bob@example.org": {password: "{PLAIN}nope", fields: Fields{"proxy": "", "userdb_home": "/leak"}}}}
	a := newAuth(t, Options{Passdbs: []PassdbConfig{{Name: "leaky", Driver: leaky}, {Name: "b", Driver: dbB}}})
	res := a.VerifyPlain(context.Background(), req("bob@example.org"), "bobpw")
	if res.Status != OK || res.Fields.Has("proxy") || res.Userdb.Has("home") || !res.Fields.Has("nodelay") {
		t.Fatalf("res = %+v", res)
	}
}

func TestMasterUser(t *testing.T) {
	t.Parallel()
	masters := memPassdb{users: map[string]memUser{"admin": {password: "{PLAIN}masterpw"}}}
	ctx := context.Background()
	for _, pass := range []bool{false, true} {
		a := newAuth(t, Options{
			Passdbs:             []PassdbConfig{{Name: "m", Driver: masters, Master: true, Pass: pass}, {Name: "a", Driver: dbA}},
			MasterUserSeparator: "*",
			UsernameFormat:      "%Lu",
		})
		res := a.VerifyPlain(ctx, req("Alice@example.org*admin"), "masterpw")
		if res.Status != OK || res.User != "alice@example.org" || res.MasterUser != "admin" {
			t.Errorf("pass=%v: master login = %+v", pass, res)
		}
		if pass && res.Userdb["home"] != "/home/alice" {
			t.Errorf("pass=yes: passdb fields missing: %+v", res)
		}
		// The login user's own password does not work as master password.
		if res := a.VerifyPlain(ctx, req("alice@example.org*admin"), "secret"); res.Status != PasswordMismatch {
			t.Errorf("pass=%v: wrong master password = %v", pass, res.Status)
		}
		// SASL authzid form.
		r := req("admin")
		r.LoginUser = "alice@example.org"
		if res := a.VerifyPlain(ctx, r, "masterpw"); res.Status != OK || res.User != "alice@example.org" {
			t.Errorf("pass=%v: authzid login = %+v", pass, res)
		}
		res = a.VerifyPlain(ctx, req("ghost@example.org*admin"), "masterpw")
		if want := map[bool]Status{false: OK, true: UserUnknown}[pass]; res.Status != want {
			t.Errorf("pass=%v: unknown login user = %v, want %v", pass, res.Status, want)
		}
	}
	// No master passdbs: an authzid is refused.
	a := newAuth(t, Options{Passdbs: []PassdbConfig{{Name: "a", Driver: dbA}}})
	r := req("alice@example.org")
	r.LoginUser = "bob@example.org"
	if res := a.VerifyPlain(ctx, r, "secret"); res.Status == OK {
		t.Errorf("authzid without master passdbs succeeded")
	}
}

func TestAllowNetsAndFieldTemplates(t *testing.T) {
	t.Parallel()
	db := memPassdb{users: map[string]memUser{
		"in@example.org":  {password: "{PLAIN}pw", fields: Fields{"allow_nets": "10.0.0.0/8, 192.0.2.7"}},
		"out@example.org": {password: "{PLAIN}pw", fields: Fields{"allow_nets": "10.0.0.0/8,local"}},
	}}
	a := newAuth(t, Options{Passdbs: []PassdbConfig{{
		Name: "db", Driver: db,
		DefaultFields:  Fields{"userdb_home": "/var/vmail/%d/%n", "quota": "1G"},
		OverrideFields: Fields{"quota": "2G"},
	}}})
	ctx := context.Background()
	res := a.VerifyPlain(ctx, req("in@example.org"), "pw")
	if res.Status != OK || res.Userdb["home"] != "/var/vmail/example.org/in" || res.Fields["quota"] != "2G" {
		t.Fatalf("in: %+v", res)
	}
	if res := a.VerifyPlain(ctx, req("out@example.org"), "pw"); res.Status != PasswordMismatch {
		t.Fatalf("out: %v", res.Status)
	}
	local := req("out@example.org")
	local.Remote = netip.AddrPort{}
	if res := a.VerifyPlain(ctx, local, "pw"); res.Status != OK {
		t.Fatalf("local: %v %v", res.Status, res.Err)
	}
}

func TestLookupCredentials(t *testing.T) {
	t.Parallel()
	a := newAuth(t, Options{Passdbs: []PassdbConfig{{Name: "a", Driver: dbA}}})
	res := a.LookupCredentials(context.Background(), req("alice@example.org"), "PLAIN")
	if res.Status != OK || string(res.Credentials) != "secret" {
		t.Fatalf("res = %+v", res)
	}
	res = a.LookupCredentials(context.Background(), req("alice@example.org"), "CRAM-MD5")
	if res.Status != OK || len(res.Credentials) != 32 {
		t.Fatalf("cram: %+v", res)
	}
}

func TestUserdbChain(t *testing.T) {
	t.Parallel()
	u1 := memUserdb{users: map[string]Fields{"alice@example.org": {"uid": "1000", "gid": "1000", "mail": "maildir:~/Maildir"}}}
	u2 := memUserdb{users: map[string]Fields{"carol@example.org": {"uid": "2000", "home": "/home/carol"}}}
	ctx := context.Background()
	a := newAuth(t, Options{
		Passdbs: []PassdbConfig{{Name: "a", Driver: dbA}},
		Userdbs: []UserdbConfig{{Name: "u1", Driver: u1, OverrideFields: Fields{"quota_rule": "*:storage=%d"}}, {Name: "u2", Driver: u2}},
	})
	r := req("alice@example.org")
	if res := a.VerifyPlain(ctx, r, "secret"); res.Status != OK {
		t.Fatal(res.Status)
	}
	ur := a.LookupUser(ctx, r)
	info, err := ur.Info()
	if ur.Status != OK || err != nil || info.UID != 1000 || info.Home != "/home/alice" || info.Mail != "maildir:~/Maildir" || info.Fields["quota_rule"] != "*:storage=example.org" {
		t.Fatalf("alice: %+v %+v %v", ur, info, err)
	}
	ur = a.LookupUser(ctx, req("carol@example.org"))
	if info, _ := ur.Info(); ur.Status != OK || info.UID != 2000 || info.GID != -1 {
		t.Fatalf("carol: %+v", ur)
	}
	if ur := a.LookupUser(ctx, req("nobody@example.org")); ur.Status != UserUnknown {
		t.Fatalf("nobody: %+v", ur)
	}
	a = newAuth(t, Options{Userdbs: []UserdbConfig{{Name: "down", Driver: memUserdb{fail: true}}, {Name: "u2", Driver: u2}}})
	if ur := a.LookupUser(ctx, req("nobody@example.org")); ur.Status != InternalFail {
		t.Fatalf("down+unknown: %+v", ur)
	}
	if ur := a.LookupUser(ctx, req("carol@example.org")); ur.Status != OK {
		t.Fatalf("down+carol: %+v", ur)
	}
	var users []string
	a = newAuth(t, Options{Userdbs: []UserdbConfig{{Name: "u1", Driver: u1}, {Name: "u2", Driver: u2}, {Name: "again", Driver: u2}}})
	a.IterateUsers(ctx, func(u string) error { users = append(users, u); return nil })
	if len(users) != 2 {
		t.Fatalf("iterate = %v", users)
	}
}

// fakeClock advances only when slept on.
type fakeClock struct {
	now    time.Time
	slept  []time.Duration
	wakeAt []time.Time
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	c.wakeAt = append(c.wakeAt, c.now)
	return nil
}

// slowPassdb makes a password check cost clock time, as a real hash does.
type slowPassdb struct {
	memPassdb
	clock *fakeClock
}

func (s slowPassdb) VerifyPlain(ctx context.Context, req *Request, pw string) PassResult {
	res := s.memPassdb.VerifyPlain(ctx, req, pw)
	if res.Status != UserUnknown {
		s.clock.now = s.clock.now.Add(300 * time.Millisecond)
	}
	return res
}

// TestFailureDelayEqual: unknown user, wrong password and temporary
// failure all end at start + auth_failure_delay.
func TestFailureDelayEqual(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	for _, tc := range []struct {
		db   Passdb
		user string
	}{
		{slowPassdb{dbA, clock}, "nobody@example.org"},
		{slowPassdb{dbA, clock}, "alice@example.org"},
		{down, "alice@example.org"},
	} {
		a := newAuth(t, Options{Passdbs: []PassdbConfig{{Name: "x", Driver: tc.db}}, Now: clock.Now, Sleep: clock.Sleep})
		start := a.Now()
		res := a.VerifyPlain(context.Background(), req(tc.user), "wrong")
		if res.Status == OK {
			t.Fatal("unexpected success")
		}
		a.FailureDelay(context.Background(), start)
		if got := clock.now.Sub(start); got != DefaultFailureDelay {
			t.Errorf("%s: answered after %v, want %v", tc.user, got, DefaultFailureDelay)
		}
	}
	a := newAuth(t, Options{FailureDelay: -1, Now: clock.Now, Sleep: clock.Sleep})
	n := len(clock.slept)
	a.FailureDelay(context.Background(), clock.now)
	if len(clock.slept) != n {
		t.Error("negative FailureDelay slept")
	}
}

func TestParseRuleSkip(t *testing.T) {
	t.Parallel()
	if r, err := ParseRule("Continue-OK"); err != nil || r != RuleContinueOK {
		t.Errorf("ParseRule = %v, %v", r, err)
	}
	if _, err := ParseRule("maybe"); err == nil {
		t.Error("ParseRule(maybe) succeeded")
	}
	if s, err := ParseSkip("notfound"); err != nil || s != SkipUnauthenticated {
		t.Errorf("ParseSkip = %v, %v", s, err)
	}
	if f := ParseFields("proxy host=1.2.3.4 userdb_mail=maildir:~/M"); f["host"] != "1.2.3.4" || !f.Has("proxy") || f["userdb_mail"] != "maildir:~/M" {
		t.Errorf("ParseFields = %v", f)
	}
}
