package shareddir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEnvironmentWins(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ROOST_SHARED", dir)
	if got := Path("corpus", "x"); got != filepath.Join(dir, "corpus", "x") {
		t.Errorf("Path = %q", got)
	}
}

func TestFindsSiblingOfAncestor(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "shared", "corpus"), 0o755)
	wd := filepath.Join(root, "main", "internal", "pkg")
	os.MkdirAll(wd, 0o755)
	t.Setenv("ROOST_SHARED", "")
	t.Chdir(wd)
	if got := Dir(); got != filepath.Join(root, "shared") {
		t.Errorf("Dir = %q", got)
	}
}
