package server

import (
	"context"
	"io"
	"testing"

	"roost/internal/auth"
)

// TestPassdbMechanisms: passdb { mechanisms = } from the configuration
// limits the passdb to the listed SASL mechanisms, comma or space
// separated, case-insensitively.
func TestPassdbMechanisms(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, t.TempDir(), "passdb {\n  driver = static\n  args = password=other\n  mechanisms = LOGIN, cram-md5 none\n}\n")
	a, s, err := AuthChain(path, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Passdbs[1].Mechanisms; len(got) != 3 || got[0] != "LOGIN" || got[1] != "cram-md5" || got[2] != "none" {
		t.Fatalf("settings: mechanisms = %q", got)
	}
	for _, c := range []struct {
		user, pass, mech string
		want             auth.Status
	}{
		{"alice", "secret", "PLAIN", auth.OK},              // first passdb has no limit
		{"alice", "other", "PLAIN", auth.PasswordMismatch}, // static passdb skipped for PLAIN
		{"alice", "other", "LOGIN", auth.OK},
		{"bob", "other", "login", auth.OK},
		{"bob", "other", "PLAIN", auth.UserUnknown},
	} {
		req := &auth.Request{Service: "imap", User: c.user, Mechanism: c.mech}
		if got := a.VerifyPlain(context.Background(), req, c.pass).Status; got != c.want {
			t.Errorf("%s/%s over %s: %v, want %v", c.user, c.pass, c.mech, got, c.want)
		}
	}
}
