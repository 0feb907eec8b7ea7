package admin

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"roost/internal/shareddir"
	"strings"
	"testing"
)

// TestSieveTestDifferential runs Debian's sieve-test and `roost sieve-test`
// on corpus messages with the seeds' scripts and RFC examples and compares
// the printed actions line by line.
func TestSieveTestDifferential(t *testing.T) {
	t.Parallel()
	oracle, err := exec.LookPath("sieve-test")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sieve-test (dovecot-sieve) is not installed")
		}
		t.Skip("sieve-test (dovecot-sieve) is not installed")
	}
	scripts, _ := filepath.Glob("testdata/sieve/*.sieve")
	msgs, _ := filepath.Glob(shareddir.Path("corpus/spamassassin/easy-ham-1/*.eml"))
	if len(msgs) == 0 {
		t.Skip("no corpus messages under ../shared/corpus")
	}
	if len(msgs) > 12 {
		msgs = msgs[:12]
	}
	// t.TempDir's parent is private; sieve-test runs as nobody when we are root.
	work, err := os.MkdirTemp("", "roost-sieve-diff")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	if err := os.Chmod(work, 0o777); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(work, "dovecot.conf")
	if err := os.WriteFile(conf, []byte("mail_location = maildir:"+work+"/mail\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, script := range scripts {
		for _, msg := range msgs {
			args := []string{"-f", "sender@example.org", "-r", "klaus@example.com", script, msg}
			want, ok := runOracle(t, oracle, conf, work, args)
			if !ok {
				return
			}
			var out, errb bytes.Buffer
			Main(append([]string{"roost", "sieve-test"}, args...), nil, &out, &errb)
			if got := out.String(); got != want {
				t.Errorf("%s on %s:\n--- sieve-test\n%s\n--- roost\n%s%s", filepath.Base(script), filepath.Base(msg), want, got, errb.String())
			}
		}
	}
}

// runOracle runs Pigeonhole's sieve-test, as nobody when we are root
// (Dovecot refuses mail access as root).
func runOracle(t *testing.T, oracle, conf, home string, args []string) (string, bool) {
	t.Helper()
	abs := make([]string, len(args))
	for i, a := range args {
		abs[i] = a
		if strings.HasSuffix(a, ".sieve") || strings.HasSuffix(a, ".eml") {
			p, _ := filepath.Abs(a)
			cp := filepath.Join(home, filepath.Base(p))
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(cp, data, 0o644); err != nil {
				t.Fatal(err)
			}
			abs[i] = cp
		}
	}
	cmdArgs := append([]string{"-c", conf}, abs...)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		setpriv, err := exec.LookPath("setpriv")
		if err != nil {
			t.Skip("running as root without setpriv; cannot run sieve-test as an unprivileged user")
		}
		cmd = exec.CommandContext(context.Background(), setpriv, append([]string{"--reuid=65534", "--regid=65534", "--clear-groups",
			"env", "HOME=" + home, "USER=nobody", oracle}, cmdArgs...)...)
	} else {
		cmd = exec.CommandContext(context.Background(), oracle, cmdArgs...)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Errorf("sieve-test %v: %v: %s", args, err, errb.String())
		return "", false
	}
	return out.String(), true
}
