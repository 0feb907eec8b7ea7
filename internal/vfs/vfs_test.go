package vfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"roost/internal/vfs"
)

func TestFaultyNth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := vfs.NewFaulty(vfs.OS{})
	f.FailNth(vfs.OpWrite, 2, syscall.ENOSPC)
	fl, err := f.OpenFile(filepath.Join(dir, "a"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	if _, err := fl.Write([]byte("x")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if _, err := fl.Write([]byte("y")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("second write: got %v, want ENOSPC", err)
	}
	if _, err := fl.Write([]byte("z")); err != nil {
		t.Fatalf("third write: %v", err)
	}
	f.FailAll(vfs.OpRename, syscall.EIO)
	if err := f.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b")); !errors.Is(err, syscall.EIO) {
		t.Fatalf("rename: got %v, want EIO", err)
	}
	f.Reset()
	if err := f.Rename(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	if err := f.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	names, err := f.ReadDirNames(dir)
	if err != nil || len(names) != 1 || names[0] != "b" {
		t.Fatalf("ReadDirNames = %v, %v", names, err)
	}
}

// TestMoveNoReplace: a move gives the file its new name and drops the
// old one; a move onto an existing name fails with fs.ErrExist and
// changes neither file.
func TestMoveNoReplace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for p, data := range map[string]string{a: "A", c: "C"} {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := (vfs.OS{}).MoveNoReplace(a, b); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("source after the move: %v, want not exist", err)
	}
	err := (vfs.OS{}).MoveNoReplace(b, c)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("move onto an existing file: %v, want fs.ErrExist", err)
	}
	for p, want := range map[string]string{b: "A", c: "C"} {
		if got, err := os.ReadFile(p); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", filepath.Base(p), got, err, want)
		}
	}
}

// TestOpenNotExist: files opened without the poller report a missing
// file as os.Open does.
func TestOpenNotExist(t *testing.T) {
	t.Parallel()
	_, err := (vfs.OS{}).Open(filepath.Join(t.TempDir(), "missing"))
	var pe *fs.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe.Op != "open" {
		t.Errorf("open of a missing file: %#v, want *fs.PathError with ENOENT", err)
	}
}
