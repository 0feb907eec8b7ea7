package vfs

import (
	"io/fs"
	"sync"
	"time"
)

// Op names an operation that a Faulty filesystem can fail.
type Op int

// Operations that can be failed.
const (
	OpWrite  Op = iota // File.Write
	OpSync             // File.Sync and FS.SyncDir
	OpRename           // FS.Rename
	OpLink             // FS.Link and FS.MoveNoReplace
	OpCreate           // FS.OpenFile with os.O_CREATE
	OpRemove           // FS.Remove
	numOps
)

var opNames = [...]string{"write", "sync", "rename", "link", "create", "remove"}

func (o Op) String() string { return opNames[o] }

// Faulty wraps an FS and fails chosen operations. It is safe for
// concurrent use.
type Faulty struct {
	FS FS

	mu     sync.Mutex // guards following
	counts [numOps]int
	rules  []rule
}

type rule struct {
	op    Op
	nth   int // fail the nth call from when the rule was added (1-based); 0 = every call
	start int
	err   error
}

var _ FS = (*Faulty)(nil)

// NewFaulty returns a Faulty wrapper around fsys with no faults armed.
func NewFaulty(fsys FS) *Faulty { return &Faulty{FS: fsys} }

// FailNth makes the nth call of op, counted from now (1 = the next call),
// fail with err.
func (f *Faulty) FailNth(op Op, n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, rule{op: op, nth: n, start: f.counts[op], err: err})
}

// FailAll makes every call of op fail with err until Reset.
func (f *Faulty) FailAll(op Op, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, rule{op: op, err: err})
}

// Reset disarms every fault.
func (f *Faulty) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Count returns how many times op was called.
func (f *Faulty) Count(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[op]
}

func (f *Faulty) check(op Op, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[op]++
	for _, r := range f.rules {
		if r.op != op {
			continue
		}
		if r.nth == 0 || f.counts[op]-r.start == r.nth {
			return &fs.PathError{Op: op.String(), Path: name, Err: r.err}
		}
	}
	return nil
}

// Open opens a file for reading.
func (f *Faulty) Open(name string) (File, error) {
	fl, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: fl, f: f}, nil
}

// OpenFile opens a file; O_CREATE counts as OpCreate.
func (f *Faulty) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if flag&oCreate != 0 {
		if err := f.check(OpCreate, name); err != nil {
			return nil, err
		}
	}
	fl, err := f.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: fl, f: f}, nil
}

// Rename renames unless a fault is armed.
func (f *Faulty) Rename(oldname, newname string) error {
	if err := f.check(OpRename, newname); err != nil {
		return err
	}
	return f.FS.Rename(oldname, newname)
}

// Link links unless a fault is armed.
func (f *Faulty) Link(oldname, newname string) error {
	if err := f.check(OpLink, newname); err != nil {
		return err
	}
	return f.FS.Link(oldname, newname)
}

// MoveNoReplace moves unless a fault is armed for OpLink (both give an
// existing file a new name).
func (f *Faulty) MoveNoReplace(oldname, newname string) error {
	if err := f.check(OpLink, newname); err != nil {
		return err
	}
	return f.FS.MoveNoReplace(oldname, newname)
}

// Remove removes unless a fault is armed.
func (f *Faulty) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return err
	}
	return f.FS.Remove(name)
}

// RemoveAll passes through.
func (f *Faulty) RemoveAll(name string) error { return f.FS.RemoveAll(name) }

// ReadDir passes through.
func (f *Faulty) ReadDir(name string) ([]fs.DirEntry, error) { return f.FS.ReadDir(name) }

// ReadDirNames passes through.
func (f *Faulty) ReadDirNames(name string) ([]string, error) { return f.FS.ReadDirNames(name) }

// Stat passes through.
func (f *Faulty) Stat(name string) (fs.FileInfo, error) { return f.FS.Stat(name) }

// Mkdir passes through.
func (f *Faulty) Mkdir(name string, perm fs.FileMode) error { return f.FS.Mkdir(name, perm) }

// MkdirAll passes through.
func (f *Faulty) MkdirAll(name string, perm fs.FileMode) error { return f.FS.MkdirAll(name, perm) }

// Chtimes passes through.
func (f *Faulty) Chtimes(name string, atime, mtime time.Time) error {
	return f.FS.Chtimes(name, atime, mtime)
}

// SyncDir counts as OpSync.
func (f *Faulty) SyncDir(name string) error {
	if err := f.check(OpSync, name); err != nil {
		return err
	}
	return f.FS.SyncDir(name)
}

type faultyFile struct {
	File
	f *Faulty
}

func (ff *faultyFile) Write(p []byte) (int, error) {
	if err := ff.f.check(OpWrite, ff.Name()); err != nil {
		return 0, err
	}
	return ff.File.Write(p)
}

func (ff *faultyFile) Sync() error {
	if err := ff.f.check(OpSync, ff.Name()); err != nil {
		return err
	}
	return ff.File.Sync()
}
