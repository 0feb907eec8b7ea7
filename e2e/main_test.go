// Package e2e holds end-to-end tests: the roost binary and Debian's Dovecot 2.3 are started on
// loopback from the same dovecot.conf, and driven by scripted IMAP sessions, by real clients
// (Python imaplib, mbsync, curl, the go-imap v2 client) and by crash loops.
//
// Tests that need Dovecot or a client program skip with a one-line reason when it is missing,
// and fail when CI=true. Tests that target roost skip only while `go build ./cmd/roost` fails.
//
// Regenerate the committed Dovecot transcripts with `go test ./e2e -run TestIMAPScripts -update`.
package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden Dovecot transcripts under testdata/")

// roostBuild is the result of building cmd/roost once for the whole package.
type roostBuild struct {
	bin string // path of the binary, "" when the build failed
	err string // build output when it failed
}

// built is written once by TestMain before any test runs and only read afterwards.
var built roostBuild

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "roost-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(2)
	}
	built = buildRoost(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildRoost runs `go build -o DIR/roost ./cmd/roost` from the module root.
func buildRoost(dir string) roostBuild {
	if testing.Short() {
		return roostBuild{err: "-short"}
	}
	bin := filepath.Join(dir, "roost")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/roost")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		return roostBuild{err: strings.TrimSpace(fmt.Sprintf("%v: %s", err, out))}
	}
	// Make the binary reachable after the server drops privileges.
	os.Chmod(dir, 0o755)
	return roostBuild{bin: bin}
}

// inCI reports whether missing prerequisites must fail instead of skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// need skips (or, under CI=true, fails) the test when a program is not installed.
func need(t testing.TB, prog string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin"} {
		if fi, err := os.Stat(filepath.Join(dir, prog)); err == nil && !fi.IsDir() {
			return filepath.Join(dir, prog)
		}
	}
	if inCI() {
		t.Fatalf("%s is not installed (CI=true; run scripts/setup-deps)", prog)
	}
	t.Skipf("%s is not installed (run scripts/setup-deps)", prog)
	return ""
}

// needRoost skips the test while cmd/roost does not build.
func needRoost(t testing.TB) string {
	t.Helper()
	if built.bin == "" {
		first, _, _ := strings.Cut(built.err, "\n")
		t.Skipf("roost binary not buildable: %s", first)
	}
	return built.bin
}
