package login

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"roost/internal/auth"
	"roost/internal/passwdfile"
	"roost/internal/pwscheme"
	"roost/internal/staticdb"
)

// clock is a fake clock that advances only when slept on.
type clock struct {
	now   time.Time
	slept time.Duration
}

func (c *clock) Now() time.Time { return c.now }
func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.slept += d
	c.now = c.now.Add(d)
	return nil
}

type env struct {
	svc   *Service
	clock *clock
	dir   string
}

func newEnv(t *testing.T, users string, mod func(*Options, *auth.Options)) *env {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "users")
	if err := os.WriteFile(path, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	masters := filepath.Join(dir, "master-users")
	if err := os.WriteFile(masters, []byte("admin:{PLAIN}secretsecret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pdb, err := passwdfile.NewPassdb("scheme=PLAIN "+path, passwdfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mdb, _ := passwdfile.NewPassdb(masters, passwdfile.Options{})
	udb, _ := passwdfile.NewUserdb(path, passwdfile.Options{})
	c := &clock{now: time.Unix(1e9, 0)}
	ao := auth.Options{
		Passdbs:             []auth.PassdbConfig{{Name: "master", Driver: mdb, Master: true, Pass: true}, {Name: "passwd-file", Driver: pdb}},
		Userdbs:             []auth.UserdbConfig{{Name: "passwd-file", Driver: udb}},
		UsernameFormat:      auth.DefaultUsernameFormat,
		UsernameChars:       auth.DefaultUsernameChars,
		MasterUserSeparator: "*",
		Now:                 c.Now,
		Sleep:               c.Sleep,
	}
	lo := Options{Mechanisms: []string{"plain", "login", "cram-md5"}}
	if mod != nil {
		mod(&lo, &ao)
	}
	a, err := auth.New(ao)
	if err != nil {
		t.Fatal(err)
	}
	lo.Auth = a
	svc, err := New(lo)
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, clock: c, dir: dir}
}

var sha, _ = pwscheme.Generate("SHA512-CRYPT", "pencil", "", 0)

var users = "alice@example.org:" + sha + ":10000:10000::/srv/vmail/example.org/alice::userdb_mail=maildir:~/Maildir\n" +
	"bob@example.org:{PLAIN}bobpw:10000:10000::/srv/vmail/example.org/bob::nodelay\n" +
	"gone@example.org:{PLAIN}pw:10000:10000::/x::nologin reason=Moved\n" +
	"quick@example.org:{PLAIN}pw:10000:10000::/x::nologin nodelay\n" +
	"proxied@example.org:{PLAIN}pw::::::proxy host=10.0.0.2\n"

var (
	insecure = ConnInfo{Service: "imap", Local: netip.MustParseAddrPort("192.0.2.1:143"), Remote: netip.MustParseAddrPort("198.51.100.9:40000")}
	tlsCI    = ConnInfo{Service: "imap", Local: insecure.Local, Remote: insecure.Remote, TLS: true}
)

func TestPlaintextPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, users, func(o *Options, _ *auth.Options) {
		o.TrustedNetworks = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	})
	ci := func(local, remote string, tls bool) ConnInfo {
		return ConnInfo{Local: netip.MustParseAddrPort(local), Remote: netip.MustParseAddrPort(remote), TLS: tls}
	}
	tests := []struct {
		ci   ConnInfo
		want bool
	}{
		{insecure, false},
		{tlsCI, true},
		{ci("127.0.0.1:143", "127.0.0.1:5000", false), true},
		{ci("[::1]:143", "[::1]:5000", false), true},
		{ci("192.0.2.1:143", "192.0.2.1:5000", false), true},
		{ci("192.0.2.1:143", "203.0.113.5:5000", false), true},
		{ci("192.0.2.1:143", "[::ffff:203.0.113.5]:5000", false), true},
	}
	for _, tt := range tests {
		if got := e.svc.PlaintextAllowed(tt.ci); got != tt.want {
			t.Errorf("PlaintextAllowed(%v) = %v, want %v", tt.ci.Remote, got, tt.want)
		}
	}
	if got := e.svc.Mechanisms(insecure); !slices.Equal(got, []string{"CRAM-MD5"}) {
		t.Errorf("Mechanisms(insecure) = %v", got)
	}
	if got := e.svc.Mechanisms(tlsCI); !slices.Equal(got, []string{"PLAIN", "LOGIN", "CRAM-MD5"}) {
		t.Errorf("Mechanisms(tlsCI) = %v", got)
	}
	lax := newEnv(t, users, func(o *Options, _ *auth.Options) { o.AllowInsecurePlaintext = true })
	if !lax.svc.PlaintextAllowed(insecure) {
		t.Error("disable_plaintext_auth=no: plaintext refused")
	}
	strict := newEnv(t, users, func(o *Options, _ *auth.Options) { o.AllowInsecurePlaintext, o.SSLRequired = true, true })
	if strict.svc.PlaintextAllowed(insecure) {
		t.Error("ssl=required: plaintext allowed")
	}
	if _, err := e.svc.Login(context.Background(), insecure, "alice@example.org", "pencil"); !errors.Is(err, ErrPlaintextDisabled) {
		t.Errorf("Login(insecure) = %v", err)
	}
	if _, err := e.svc.Begin(context.Background(), insecure, "PLAIN"); KindOf(err) != PlaintextDisabled {
		t.Errorf("Begin(insecure) = %v", err)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, users, nil)
	ctx := context.Background()
	s, err := e.svc.Login(ctx, tlsCI, "Alice@Example.org", "pencil")
	if err != nil {
		t.Fatal(err)
	}
	if s.User != "alice@example.org" || s.UserInfo.UID != 10000 || s.UserInfo.Home != "/srv/vmail/example.org/alice" ||
		s.UserInfo.Mail != "maildir:~/Maildir" || s.Mechanism != "PLAIN" {
		t.Errorf("session = %+v", s)
	}
	if e.clock.slept != 0 {
		t.Errorf("success slept %v", e.clock.slept)
	}
}

// TestFailureKindsAndDelay: unknown user, wrong password and temporary
// failure all wait until start + 2s, and keep distinct kinds.
func TestFailureKindsAndDelay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, users, nil)
	ctx := context.Background()
	tests := []struct {
		user, pw string
		kind     Kind
		delay    bool
	}{
		{"alice@example.org", "wrong", Failed, true},
		{"nobody@example.org", "pencil", Failed, true},
		{"bad user", "pencil", Failed, true},
		// nodelay of a passdb whose check failed is rolled back with its
		// other fields, as in Dovecot; it applies to nologin answers.
		{"bob@example.org", "wrong", Failed, true},
		{"quick@example.org", "pw", Nologin, false},
		{"gone@example.org", "pw", Nologin, true},
	}
	for _, tt := range tests {
		start := e.clock.now
		_, err := e.svc.Login(ctx, tlsCI, tt.user, tt.pw)
		if KindOf(err) != tt.kind {
			t.Errorf("Login(%s) = %v, want kind %v", tt.user, err, tt.kind)
		}
		want := time.Duration(0)
		if tt.delay {
			want = auth.DefaultFailureDelay
		}
		if got := e.clock.now.Sub(start); got != want {
			t.Errorf("Login(%s) answered after %v, want %v", tt.user, got, want)
		}
	}
	_, err := e.svc.Login(ctx, tlsCI, "gone@example.org", "pw")
	var le *Error
	if !errors.As(err, &le) || le.Reason != "Moved" {
		t.Errorf("nologin error = %#v", err)
	}

	// Make the passwd-file unreadable: internal failure, never "unknown user".
	path := filepath.Join(e.dir, "users")
	os.Remove(path)
	os.Mkdir(path, 0o755)
	start := e.clock.now
	_, err = e.svc.Login(ctx, tlsCI, "nobody@example.org", "pencil")
	if !errors.Is(err, ErrTempFail) || errors.Is(err, ErrFailed) {
		t.Errorf("unreadable passwd-file: %v", err)
	}
	if got := e.clock.now.Sub(start); got != auth.DefaultFailureDelay {
		t.Errorf("temp failure answered after %v", got)
	}
}

func TestProxyAndUserdbMiss(t *testing.T) {
	t.Parallel()
	e := newEnv(t, users, func(_ *Options, a *auth.Options) {
		// A userdb that knows nobody except through allow_all_users=no.
		s, _ := staticdb.NewUserdb("uid=10000 gid=10000 home=/h/%u")
		a.Userdbs = []auth.UserdbConfig{{Name: "static", Driver: s, Skip: auth.SkipNever}}
	})
	ctx := context.Background()
	s, err := e.svc.Login(ctx, tlsCI, "proxied@example.org", "pw")
	if err != nil || s.Fields["host"] != "10.0.0.2" || !s.Fields.Has("proxy") || s.UserInfo.UID != 0 {
		t.Fatalf("proxy login = %+v, %v", s, err)
	}
	e2 := newEnv(t, users, func(_ *Options, a *auth.Options) {
		a.Userdbs = []auth.UserdbConfig{{Name: "empty", Driver: emptyUserdb{}}}
	})
	if _, err := e2.svc.Login(ctx, tlsCI, "alice@example.org", "pencil"); KindOf(err) != Failed {
		t.Fatalf("userdb miss = %v", err)
	}
}

type emptyUserdb struct{}

func (emptyUserdb) LookupUser(context.Context, *auth.Request) auth.UserResult {
	return auth.UserResult{Status: auth.UserUnknown}
}

func TestMasterLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, users, nil)
	ctx := context.Background()
	s, err := e.svc.Login(ctx, tlsCI, "alice@example.org*admin", "secretsecret")
	if err != nil || s.User != "alice@example.org" || s.MasterUser != "admin" || s.UserInfo.UID != 10000 {
		t.Fatalf("master login = %+v, %v", s, err)
	}
	// SASL PLAIN with authzid.
	x, err := e.svc.Begin(ctx, tlsCI, "PLAIN")
	if err != nil {
		t.Fatal(err)
	}
	_, s, err = x.Next(ctx, []byte("alice@example.org\x00admin\x00secretsecret"))
	if err != nil || s.User != "alice@example.org" || s.MasterUser != "admin" {
		t.Fatalf("PLAIN authzid = %+v, %v", s, err)
	}
}

func TestMasterRefusedWithoutMasterPassdb(t *testing.T) {
	t.Parallel()
	e := newEnv(t, users, func(_ *Options, a *auth.Options) { a.Passdbs = a.Passdbs[1:] })
	ctx := context.Background()
	x, _ := e.svc.Begin(ctx, tlsCI, "PLAIN")
	_, _, err := x.Next(ctx, []byte("bob@example.org\x00alice@example.org\x00pencil"))
	if KindOf(err) != Failed {
		t.Fatalf("authzid without master passdbs = %v", err)
	}
}

func TestSASLExchanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, users, nil)
	ctx := context.Background()

	x, err := e.svc.Begin(ctx, tlsCI, "plain")
	if err != nil {
		t.Fatal(err)
	}
	ch, s, err := x.Next(ctx, nil)
	if err != nil || s != nil || len(ch) != 0 {
		t.Fatalf("PLAIN first step = %q, %v, %v", ch, s, err)
	}
	if _, s, err = x.Next(ctx, []byte("\x00alice@example.org\x00pencil")); err != nil || s.User != "alice@example.org" {
		t.Fatalf("PLAIN = %+v, %v", s, err)
	}
	if _, _, err := x.Next(ctx, []byte("x")); err == nil {
		t.Fatal("Next after success accepted")
	}

	x, _ = e.svc.Begin(ctx, tlsCI, "LOGIN")
	for i, step := range []struct{ resp, ch string }{{"", "Username:"}, {"bob@example.org", "Password:"}} {
		var resp []byte
		if i > 0 {
			resp = []byte(step.resp)
		}
		ch, _, err := x.Next(ctx, resp)
		if err != nil || string(ch) != step.ch {
			t.Fatalf("LOGIN step %d = %q, %v", i, ch, err)
		}
	}
	if _, s, err := x.Next(ctx, []byte("bobpw")); err != nil || s.User != "bob@example.org" {
		t.Fatalf("LOGIN = %+v, %v", s, err)
	}

	// Malformed PLAIN: failed, after the delay.
	start := e.clock.now
	x, _ = e.svc.Begin(ctx, tlsCI, "PLAIN")
	if _, _, err := x.Next(ctx, []byte("no nuls")); KindOf(err) != Failed {
		t.Fatalf("malformed = %v", err)
	}
	if e.clock.now.Sub(start) != auth.DefaultFailureDelay {
		t.Errorf("malformed answered after %v", e.clock.now.Sub(start))
	}
	// Wrong password through SASL.
	x, _ = e.svc.Begin(ctx, tlsCI, "PLAIN")
	if _, _, err := x.Next(ctx, []byte("\x00alice@example.org\x00nope")); !errors.Is(err, ErrFailed) {
		t.Fatalf("wrong password = %v", err)
	}
	// Abort and unknown mechanisms.
	x, _ = e.svc.Begin(ctx, tlsCI, "LOGIN")
	x.Next(ctx, nil)
	if err := x.Abort(); !errors.Is(err, ErrAborted) {
		t.Fatalf("Abort = %v", err)
	}
	for _, m := range []string{"DIGEST-MD5", "GSSAPI", ""} {
		if _, err := e.svc.Begin(ctx, tlsCI, m); !errors.Is(err, ErrUnknownMechanism) {
			t.Errorf("Begin(%q) = %v", m, err)
		}
	}
}
