package pwscheme

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const doveadm = "/usr/bin/doveadm"

// needDoveadm skips without Dovecot, and fails under CI=true.
func needDoveadm(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(doveadm); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("doveadm not installed: %v", err)
		}
		t.Skip("doveadm not installed (apt install dovecot-core)")
	}
}

// TestDoveadmDifferential: doveadm's output verifies in roost, and roost's
// output verifies in doveadm, for every scheme both implement.
func TestDoveadmDifferential(t *testing.T) {
	needDoveadm(t)
	t.Parallel()
	out, err := exec.Command(doveadm, "pw", "-l").Output()
	if err != nil {
		t.Fatalf("doveadm pw -l: %v", err)
	}
	const user = "bob@example.org"
	for _, scheme := range strings.Fields(string(out)) {
		if _, ok := lookup(scheme); !ok || scheme == "PLAIN-TRUNC" {
			t.Logf("scheme %s: not compared", scheme)
			continue
		}
		for _, pw := range []string{"pencil", "päss wörd", "a:b{c}$d", strings.Repeat("long", 30)} {
			t.Run(scheme+"/"+pw[:min(len(pw), 10)], func(t *testing.T) {
				t.Parallel()
				theirs, err := exec.Command(doveadm, "pw", "-s", scheme, "-p", pw, "-u", user).Output()
				if err != nil {
					t.Fatalf("doveadm pw -s %s: %v", scheme, err)
				}
				h := strings.TrimSpace(string(theirs))
				if ok, err := Verify(pw, h, user); !ok || err != nil {
					t.Errorf("roost Verify(doveadm %q) = %v, %v", h, ok, err)
				}
				ours, err := Generate(scheme, pw, user, 0)
				if err != nil {
					t.Fatalf("Generate: %v", err)
				}
				cmd := exec.Command(doveadm, "pw", "-t", ours, "-p", pw, "-u", user)
				if msg, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("doveadm pw -t %q: %v: %s", ours, err, msg)
				}
			})
		}
	}
}
