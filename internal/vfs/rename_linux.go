package vfs

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// errNoRenameNoReplace: the kernel or filesystem has no RENAME_NOREPLACE.
var errNoRenameNoReplace = errors.New("rename without replacing is not supported")

func renameNoReplace(oldname, newname string) error {
	for {
		err := unix.Renameat2(unix.AT_FDCWD, oldname, unix.AT_FDCWD, newname, unix.RENAME_NOREPLACE)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EINVAL, syscall.ENOSYS, syscall.ENOTSUP:
			return errNoRenameNoReplace
		case nil:
			return nil
		default:
			return err
		}
	}
}
