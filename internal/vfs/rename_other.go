//go:build !linux

package vfs

import "errors"

// errNoRenameNoReplace: the kernel or filesystem has no RENAME_NOREPLACE.
var errNoRenameNoReplace = errors.New("rename without replacing is not supported")

func renameNoReplace(oldname, newname string) error { return errNoRenameNoReplace }
