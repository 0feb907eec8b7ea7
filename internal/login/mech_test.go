package login

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"roost/internal/auth"
)

const mechUsers = "alice@example.org:{PLAIN}pencil:10000:10000::/srv/vmail/alice::\n" +
	"hashed@example.org:{SHA512-CRYPT}$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1:10000:10000::/x::\n" +
	"anonymous:{PLAIN}x:10000:10000::/srv/vmail/anon::\n" +
	"cert@example.org::10000:10000::/srv/vmail/cert::nopassword\n"

func allMechs(o *Options, _ *auth.Options) {
	o.Mechanisms = strings.Fields("plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256 scram-sha-256-plus external anonymous oauthbearer xoauth2")
}

func TestCRAMMD5Login(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mechUsers, allMechs)
	ctx := context.Background()
	x, err := e.svc.Begin(ctx, tlsCI, "cram-md5")
	if err != nil {
		t.Fatal(err)
	}
	ch, _, err := x.Next(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(md5.New, []byte("pencil"))
	m.Write(ch)
	_, sess, err := x.Next(ctx, []byte("alice@example.org "+hex.EncodeToString(m.Sum(nil))))
	if err != nil || sess == nil || sess.User != "alice@example.org" || sess.UserInfo.Home != "/srv/vmail/alice" {
		t.Fatalf("CRAM-MD5: %+v %v", sess, err)
	}
	// Wrong digest: a failure with the delay.
	x, _ = e.svc.Begin(ctx, tlsCI, "CRAM-MD5")
	x.Next(ctx, nil)
	before := e.clock.slept
	if _, _, err := x.Next(ctx, []byte("alice@example.org 0123456789abcdef0123456789abcdef")); !errors.Is(err, ErrFailed) {
		t.Fatalf("wrong digest: %v", err)
	}
	if e.clock.slept == before {
		t.Error("no failure delay")
	}
	// A one-way hash cannot serve CRAM-MD5: failure, not an internal error.
	x, _ = e.svc.Begin(ctx, tlsCI, "CRAM-MD5")
	x.Next(ctx, nil)
	if _, _, err := x.Next(ctx, []byte("hashed@example.org 0123456789abcdef0123456789abcdef")); !errors.Is(err, ErrFailed) {
		t.Fatalf("hashed user: %v", err)
	}
}

func TestSCRAMLoginFinalResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mechUsers, allMechs)
	ctx := context.Background()
	x, err := e.svc.Begin(ctx, tlsCI, "SCRAM-SHA-256")
	if err != nil {
		t.Fatal(err)
	}
	first := "n,,n=alice@example.org,r=clientnonce"
	sf, sess, err := x.Next(ctx, []byte(first))
	if err != nil || sess != nil {
		t.Fatalf("server-first %q %v", sf, err)
	}
	final := scramFinal(t, string(sf), first[3:], "pencil")
	v, sess, err := x.Next(ctx, []byte(final))
	if err != nil || sess != nil || !strings.HasPrefix(string(v), "v=") {
		t.Fatalf("server-final %q %v %v", v, sess, err)
	}
	_, sess, err = x.Next(ctx, []byte{})
	if err != nil || sess == nil || sess.User != "alice@example.org" || sess.Mechanism != "SCRAM-SHA-256" {
		t.Fatalf("session %+v %v", sess, err)
	}
	// -PLUS is not offered without TLS state.
	for _, m := range e.svc.Mechanisms(tlsCI) {
		if strings.HasSuffix(m, "-PLUS") {
			t.Errorf("Mechanisms without TLS state lists %s", m)
		}
	}
}

func scramFinal(t *testing.T, serverFirst, bare, pw string) string {
	t.Helper()
	var nonce, salt string
	var iter int
	for _, a := range strings.Split(serverFirst, ",") {
		switch a[:2] {
		case "r=":
			nonce = a[2:]
		case "s=":
			salt = a[2:]
		case "i=":
			iter, _ = strconv.Atoi(a[2:])
		}
	}
	s, _ := base64.StdEncoding.DecodeString(salt)
	sp, _ := pbkdf2.Key(sha256.New, pw, s, iter, 32)
	mac := func(k []byte, m string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(m)); return h.Sum(nil) }
	ck := mac(sp, "Client Key")
	stored := sha256.Sum256(ck)
	noProof := "c=biws,r=" + nonce
	sig := mac(stored[:], bare+","+serverFirst+","+noProof)
	for i := range ck {
		ck[i] ^= sig[i]
	}
	return noProof + ",p=" + base64.StdEncoding.EncodeToString(ck)
}

func TestOAuthAnonymousExternal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mechUsers, allMechs)
	ctx := context.Background()
	x, _ := e.svc.Begin(ctx, tlsCI, "OAUTHBEARER")
	if _, sess, err := x.Next(ctx, []byte("n,a=alice@example.org,\x01auth=Bearer pencil\x01\x01")); err != nil || sess == nil {
		t.Fatalf("OAUTHBEARER: %v", err)
	}
	x, _ = e.svc.Begin(ctx, tlsCI, "XOAUTH2")
	ch, sess, err := x.Next(ctx, []byte("user=alice@example.org\x01auth=Bearer nope\x01\x01"))
	if err != nil || sess != nil || !strings.Contains(string(ch), `"status":"401"`) {
		t.Fatalf("XOAUTH2 bad token: %q %v", ch, err)
	}
	if _, _, err := x.Next(ctx, []byte{}); !errors.Is(err, ErrFailed) {
		t.Fatalf("XOAUTH2 after error challenge: %v", err)
	}
	x, _ = e.svc.Begin(ctx, tlsCI, "ANONYMOUS")
	if _, sess, err := x.Next(ctx, []byte("trace@example.net")); err != nil || sess.User != "anonymous" || sess.UserInfo.Home != "/srv/vmail/anon" {
		t.Fatalf("ANONYMOUS: %+v %v", sess, err)
	}
	// EXTERNAL without a certificate fails; with one vouched for by the
	// auth-client peer it logs in as the certificate's user when a passdb
	// admits that user with nopassword (Dovecot checks an empty password),
	// and fails for a user with a password.
	x, _ = e.svc.Begin(ctx, tlsCI, "EXTERNAL")
	if _, _, err := x.Next(ctx, []byte{}); !errors.Is(err, ErrFailed) {
		t.Fatalf("EXTERNAL without cert: %v", err)
	}
	ci := tlsCI
	ci.CertUser, ci.CertValid = "cert@example.org", true
	x, _ = e.svc.Begin(ctx, ci, "EXTERNAL")
	if _, sess, err := x.Next(ctx, []byte{}); err != nil || sess.User != "cert@example.org" {
		t.Fatalf("EXTERNAL: %+v %v", sess, err)
	}
	ci.CertUser = "alice@example.org"
	x, _ = e.svc.Begin(ctx, ci, "EXTERNAL")
	if _, _, err := x.Next(ctx, []byte{}); !errors.Is(err, ErrFailed) {
		t.Fatalf("EXTERNAL for a user with a password: %v", err)
	}
}

func TestDefaultRealm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mechUsers, func(o *Options, _ *auth.Options) { o.DefaultRealm = "example.org"; o.MasterUserSeparator = "*" })
	if sess, err := e.svc.Login(context.Background(), tlsCI, "alice", "pencil"); err != nil || sess.User != "alice@example.org" {
		t.Fatalf("Login(alice) = %+v, %v", sess, err)
	}
	if got := e.svc.withRealm("alice*admin"); got != "alice@example.org*admin@example.org" {
		t.Errorf("withRealm = %q", got)
	}
}

func TestPenaltyGrows(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Unix(1e9, 0)}
	p := NewPenalty(PenaltyOptions{Now: c.Now, Sleep: c.Sleep})
	a := netip.MustParseAddr("198.51.100.9")
	var got []time.Duration
	for range 6 {
		p.Fail(a)
		got = append(got, p.Delay(a))
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second, 15 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	c.now = c.now.Add(10 * time.Second)
	if d := p.Delay(a); d != 5*time.Second {
		t.Errorf("delay after 10s = %v", d)
	}
	// IPv6 addresses share a /48.
	p.Fail(netip.MustParseAddr("2001:db8:1:2::1"))
	if p.Count(netip.MustParseAddr("2001:db8:1:ffff::9")) != 1 {
		t.Error("IPv6 /48 not grouped")
	}
	p.Reset(a)
	if p.Delay(a) != 0 {
		t.Error("Reset kept the penalty")
	}
	var nilP *Penalty
	nilP.Fail(a)
	if nilP.Delay(a) != 0 {
		t.Error("nil penalty delays")
	}
}

func TestPenaltyAppliedToLogins(t *testing.T) {
	t.Parallel()
	var pen *Penalty
	e := newEnv(t, mechUsers, func(o *Options, ao *auth.Options) {
		ao.FailureDelay = -1
	})
	pen = NewPenalty(PenaltyOptions{Now: e.clock.Now, Sleep: e.clock.Sleep})
	e.svc.opts.Penalty = pen
	ctx := context.Background()
	for range 3 {
		e.svc.Login(ctx, tlsCI, "alice@example.org", "wrong")
	}
	// Failures at t=0 (penalty 1), t=2 (waits 2s, penalty 2), t=6 (4s,
	// penalty 3): 6s slept so far; the next attempt waits 8s.
	if e.clock.slept != 6*time.Second {
		t.Fatalf("slept %v", e.clock.slept)
	}
	if _, err := e.svc.Login(ctx, tlsCI, "alice@example.org", "pencil"); err != nil {
		t.Fatal(err)
	}
	if e.clock.slept != 14*time.Second || pen.Count(tlsCI.Remote.Addr()) != 0 {
		t.Fatalf("slept %v, count %d", e.clock.slept, pen.Count(tlsCI.Remote.Addr()))
	}
}
