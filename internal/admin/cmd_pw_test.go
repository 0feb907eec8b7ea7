package admin

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func runCmd(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"roost"}, args...), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func TestPW(t *testing.T) {
	t.Parallel()
	// Seed 004's command; SHA512 has no rounds, as in doveadm.
	out, _, code := runCmd(t, "", "pw", "-p", "geheim", "-s", "sha512", "-r", "100")
	if code != 0 || out != "{SHA512}jYR+AdIrqpafcfo2K03iHJ4Tx4grzqE7pcaorg1x/IyXAMguAIemXIs3vSn1NnR/KMlnK+wcrndi0snza2AT8g==\n" {
		t.Fatalf("pw -s sha512: %q %d", out, code)
	}
	out, _, code = runCmd(t, "", "pw", "-t", "{PLAIN}pencil", "-p", "pencil")
	if code != 0 || out != "{PLAIN}pencil (verified)\n" {
		t.Fatalf("pw -t: %q %d", out, code)
	}
	_, errOut, code := runCmd(t, "", "pw", "-t", "{PLAIN}pencil", "-p", "bad")
	if code != exitTempFail || errOut != "Fatal: reverse password verification check failed: Password mismatch\n" {
		t.Fatalf("pw -t mismatch: %q %d", errOut, code)
	}
	_, errOut, code = runCmd(t, "", "pw", "-s", "FOO", "-p", "x")
	if code != exitTempFail || errOut != "Fatal: Unknown scheme: FOO\n" {
		t.Fatalf("pw -s FOO: %q %d", errOut, code)
	}
	out, _, code = runCmd(t, "geheim\ngeheim\n", "pw", "-s", "sha256.hex")
	if code != 0 || out != "{SHA256.HEX}addb0f5e7826c857d7376d1bd9bc33c0c544790a2eac96144a8af22b1298c940\n" {
		t.Fatalf("pw prompt: %q %d", out, code)
	}
	out, _, _ = runCmd(t, "", "pw", "-s", "SSHA256", "-p", "x", "-V")
	if !strings.HasSuffix(out, " (verified)\n") {
		t.Fatalf("pw -V: %q", out)
	}
}

// TestPWDoveadmDifferential: for every scheme doveadm pw -l lists, roost
// pw's output verifies with doveadm pw -t and doveadm's with roost pw -t.
func TestPWDoveadmDifferential(t *testing.T) {
	const doveadm = "/usr/bin/doveadm"
	if _, err := os.Stat(doveadm); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("doveadm not installed")
		}
		t.Skip("doveadm not installed (apt install dovecot-core)")
	}
	t.Parallel()
	list, err := exec.Command(doveadm, "pw", "-l").Output()
	if err != nil {
		t.Fatal(err)
	}
	ours, _, _ := runCmd(t, "", "pw", "-l")
	for _, s := range strings.Fields(string(list)) {
		if s == "OTP" || s == "PLAIN-TRUNC" {
			continue // OTP is not implemented; PLAIN-TRUNC needs a length prefix
		}
		if !strings.Contains(" "+ours, " "+s+" ") {
			t.Errorf("roost pw -l lacks %s", s)
			continue
		}
		const pw, user = "päss wörd", "user@example.org"
		h, _, code := runCmd(t, "", "pw", "-s", s, "-p", pw, "-u", user)
		h = strings.TrimSpace(h)
		if code != 0 {
			t.Errorf("roost pw -s %s: exit %d", s, code)
			continue
		}
		if out, err := exec.Command(doveadm, "pw", "-t", h, "-p", pw, "-u", user).CombinedOutput(); err != nil {
			t.Errorf("doveadm pw -t %s: %v %s", h, err, out)
		}
		theirs, err := exec.Command(doveadm, "pw", "-s", s, "-p", pw, "-u", user).Output()
		if err != nil {
			t.Errorf("doveadm pw -s %s: %v", s, err)
			continue
		}
		if out, errOut, code := runCmd(t, "", "pw", "-t", strings.TrimSpace(string(theirs)), "-p", pw, "-u", user); code != 0 {
			t.Errorf("roost pw -t %s: %s%s", theirs, out, errOut)
		}
	}
}
