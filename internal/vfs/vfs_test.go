package vfs_test

import (
	"errors"
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
