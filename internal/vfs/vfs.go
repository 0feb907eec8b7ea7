package vfs

import (
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// File is an open file.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Closer
	Stat() (fs.FileInfo, error)
	Sync() error
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Name() string
}

// FS is the set of filesystem operations storage drivers use.
type FS interface {
	Open(name string) (File, error)
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldname, newname string) error
	Link(oldname, newname string) error
	// MoveNoReplace renames oldname to newname, failing with an error
	// matching fs.ErrExist when newname exists (it never replaces a file).
	MoveNoReplace(oldname, newname string) error
	Remove(name string) error
	RemoveAll(name string) error
	ReadDir(name string) ([]fs.DirEntry, error)
	// ReadDirNames returns the names in a directory, unsorted; cheaper
	// than ReadDir for very large directories.
	ReadDirNames(name string) ([]string, error)
	Stat(name string) (fs.FileInfo, error)
	Mkdir(name string, perm fs.FileMode) error
	MkdirAll(name string, perm fs.FileMode) error
	Chtimes(name string, atime, mtime time.Time) error
	// SyncDir fsyncs a directory so that renames and links in it are durable.
	SyncDir(name string) error
}

// OS is the operating system's filesystem.
type OS struct{}

var _ FS = OS{}

// Open opens a file for reading.
func (OS) Open(name string) (File, error) { return openFile(name, os.O_RDONLY, 0) }

// OpenFile is os.OpenFile.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := openFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// openFile is os.OpenFile for regular files and directories, without the
// runtime poller: os.OpenFile offers every descriptor to epoll, which
// refuses files and directories, at the cost of four fcntl calls and a
// failed epoll_ctl per open; os.NewFile keeps a blocking descriptor out of
// the poller with one fcntl. A mail server opens files per command, so the
// difference shows in its system time.
func openFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(name, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// Rename is os.Rename without its lstat of newname (which only turns
// renaming a file over a directory into the error rename(2) gives anyway):
// a flag change renames a message file, once per STORE.
func (OS) Rename(oldname, newname string) error {
	var err error
	for {
		err = syscall.Rename(oldname, newname)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

// Link is os.Link.
func (OS) Link(oldname, newname string) error { return os.Link(oldname, newname) }

// MoveNoReplace renames with renameat2(RENAME_NOREPLACE) where the
// filesystem has it, else links newname and removes oldname (the Maildir
// way, two calls).
func (OS) MoveNoReplace(oldname, newname string) error {
	err := renameNoReplace(oldname, newname)
	if err == nil {
		return nil
	}
	if err != errNoRenameNoReplace {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	if err := os.Link(oldname, newname); err != nil {
		return err
	}
	_ = os.Remove(oldname)
	return nil
}

// Remove is os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// RemoveAll is os.RemoveAll.
func (OS) RemoveAll(name string) error { return os.RemoveAll(name) }

// ReadDir is os.ReadDir.
func (OS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// ReadDirNames lists the names in a directory without sorting or stat.
func (OS) ReadDirNames(name string) ([]string, error) {
	f, err := openFile(name, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// Stat is os.Stat.
func (OS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// Mkdir is os.Mkdir.
func (OS) Mkdir(name string, perm fs.FileMode) error { return os.Mkdir(name, perm) }

// MkdirAll is os.MkdirAll.
func (OS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }

// Chtimes is os.Chtimes.
func (OS) Chtimes(name string, atime, mtime time.Time) error {
	return os.Chtimes(name, atime, mtime)
}

// SyncDir opens a directory and fsyncs it.
func (OS) SyncDir(name string) error {
	f, err := openFile(name, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil && (err == syscall.EINVAL || isEINVAL(err)) {
		return nil // filesystems that cannot fsync directories
	}
	return err
}

func isEINVAL(err error) bool {
	pe, ok := err.(*fs.PathError)
	return ok && pe.Err == syscall.EINVAL
}

// Ino returns the inode number of fi, or 0 when unknown.
func Ino(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}

// Ctime returns the change time of fi, or its mtime when unknown.
func Ctime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return fi.ModTime()
}
