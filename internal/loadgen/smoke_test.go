package loadgen

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"roost/internal/shareddir"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every workload for about two seconds against roost only
// and fails on any protocol error. A workload whose protocol roost does
// not serve yet is reported and skipped. Figures are not checked: speed
// is measured by scripts/bench, never asserted in tests.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts roost")
	}
	bin := buildRoost(t)
	dir := openTempDir(t)
	var log bytes.Buffer
	cmp, err := Compare(context.Background(), CompareOptions{
		RoostBin: bin, Dir: filepath.Join(dir, "work"), Duration: 2 * time.Second, Reps: 1,
		CorpusDir: corpusDir(), IdleSessions: 50, BigboxSize: 2000, SortThreadSize: 2000, Pop3Prefill: 100, CycleClients: 4,
		NoCeilings: true, Log: &log,
	})
	t.Log(log.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, cr := range cmp.Cases {
		if s := cr.Skipped["roost"]; s != "" {
			t.Logf("%s: skipped: %s", cr.Case.Name, s)
			continue
		}
		for _, run := range cr.Runs["roost"] {
			res := run.Result
			if res.Failed() {
				t.Errorf("%s: %d protocol errors: %s", cr.Case.Name, res.Errors, strings.Join(res.ErrorSamples, "; "))
			}
			if res.Op(res.Headline).Count == 0 {
				t.Errorf("%s: no %s completed", cr.Case.Name, res.Headline)
			}
		}
	}
	var md bytes.Buffer
	WriteReport(&md, cmp, ReportInfo{Command: "go test ./internal/loadgen"}, "")
	if !strings.Contains(md.String(), "## cycle") {
		t.Errorf("report has no cycle table:\n%s", md.String())
	}
}

func buildRoost(t *testing.T) string {
	t.Helper()
	dir := openTempDir(t)
	bin := filepath.Join(dir, "roost")
	cmd := exec.Command("go", "build", "-o", bin, "roost/cmd/roost")
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("build roost: %v\n%s", err, out)
		}
		t.Skipf("roost does not build: %v", err)
	}
	return bin
}

// corpusDir is ../shared/corpus when present (synthetic messages otherwise).
func corpusDir() string {
	for _, p := range []string{shareddir.Path("corpus")} {
		if _, err := os.Stat(filepath.Join(p, "manifest.tsv")); err == nil {
			return p
		}
	}
	return ""
}

// openTempDir is a temporary directory the servers can still traverse
// after dropping privileges (t.TempDir's parent is mode 0700).
func openTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "roost-loadgen-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
