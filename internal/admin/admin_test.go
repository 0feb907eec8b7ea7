package admin

import (
	"bytes"
	"strings"
	"testing"
)

func run(t *testing.T, argv ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(argv, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestUnknownCommandListsCommands(t *testing.T) {
	t.Parallel()
	code, _, stderr := run(t, "roost", "frobnicate", "x")
	if code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	for _, want := range []string{"Unknown command 'frobnicate x'", "serve", "config", "help"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestNoArgsIsUsage(t *testing.T) {
	t.Parallel()
	if code, _, stderr := run(t, "/usr/bin/roost"); code != exitUsage || !strings.Contains(stderr, "usage: roost") {
		t.Errorf("code %d stderr %q", code, stderr)
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, "roost", "help")
	if code != 0 || !strings.Contains(stdout, "serve [-c FILE] [-F]") {
		t.Errorf("help: %d %q", code, stdout)
	}
	code, stdout, _ = run(t, "roost", "help", "config")
	if code != 0 || !strings.Contains(stdout, "usage: roost config") {
		t.Errorf("help config: %d %q", code, stdout)
	}
}

func TestDovecotVersion(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, "/usr/sbin/dovecot", "--version")
	if code != 0 || !strings.HasPrefix(stdout, "2.3.") {
		t.Errorf("dovecot --version: %d %q", code, stdout)
	}
}

func TestLookupLongestMatch(t *testing.T) {
	t.Parallel()
	cmd, rest := lookup([]string{"config", "-n"})
	if cmd == nil || cmd.Name != "config" || len(rest) != 1 {
		t.Fatalf("lookup: %v %v", cmd, rest)
	}
	if cmd, _ := lookup([]string{"conf"}); cmd != nil {
		t.Errorf("prefix of a word must not match: %v", cmd.Name)
	}
}
