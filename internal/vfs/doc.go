// Package vfs is the filesystem interface used by storage drivers: the OS
// implementation and a fault-injecting wrapper for tests.
//
// Paths are OS paths (slash-separated on Unix). Errors are the *fs.PathError /
// *os.LinkError values of package os, so errors.Is(err, fs.ErrNotExist) and
// errors.Is(err, syscall.ENOSPC) work through every implementation.
package vfs
