package login

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"testing"

	"roost/internal/auth"
)

func apopDigest(challenge, pw string) string {
	s := md5.Sum([]byte(challenge + pw))
	return hex.EncodeToString(s[:])
}

// TestAPOP: the digest is checked against the PLAIN credentials, the
// userdb runs, and a wrong digest, an unknown user and a one-way hash all
// fail after auth_failure_delay.
func TestAPOP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	off := newEnv(t, users, nil)
	if off.svc.APOPEnabled() {
		t.Fatal("APOP enabled without auth_mechanisms apop")
	}
	if _, err := off.svc.APOP(ctx, tlsCI, "bob@example.org", "<1@x>", apopDigest("<1@x>", "bobpw")); KindOf(err) != UnknownMechanism {
		t.Errorf("APOP while disabled: %v", err)
	}
	e := newEnv(t, users, func(o *Options, _ *auth.Options) { o.Mechanisms = []string{"plain", "apop"} })
	if !e.svc.APOPEnabled() {
		t.Fatal("APOP not enabled")
	}
	ch := "<1896.697170952@dbc.mtview.ca.us>"
	s, err := e.svc.APOP(ctx, insecure, "bob@example.org", ch, apopDigest(ch, "bobpw"))
	if err != nil {
		t.Fatal(err)
	}
	if s.User != "bob@example.org" || s.Mechanism != "APOP" || s.UserInfo.Home != "/srv/vmail/example.org/bob" {
		t.Errorf("session = %+v", s)
	}
	for _, c := range []struct{ name, user, digest string }{
		{"wrong digest", "bob@example.org", apopDigest(ch, "nope")},
		{"digest of another challenge", "bob@example.org", apopDigest("<2@x>", "bobpw")},
		{"unknown user", "ghost@example.org", apopDigest(ch, "bobpw")},
		{"one-way hash", "alice@example.org", apopDigest(ch, "pencil")},
	} {
		start := e.clock.now
		if _, err := e.svc.APOP(ctx, insecure, c.user, ch, c.digest); KindOf(err) != Failed {
			t.Errorf("%s: %v, want failed", c.name, err)
		}
		if got := e.clock.now.Sub(start); got < auth.DefaultFailureDelay {
			t.Errorf("%s: answered after %v", c.name, got)
		}
	}
}
