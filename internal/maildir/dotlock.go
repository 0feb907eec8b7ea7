package maildir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// Dovecot's dotlock settings for dovecot-uidlist (maildir-uidlist.c):
// a lock older than the stale timeout is overridden; waiting longer than
// the timeout fails.
const (
	lockStaleTimeout = 2 * time.Minute
	lockTimeout      = lockStaleTimeout + 2*time.Second
	lockPollInterval = 20 * time.Millisecond
)

// dotlock is a held "<path>.lock" file, as Dovecot's file-dotlock.c
// creates it: O_EXCL, containing "<pid>:<host>".
type dotlock struct {
	fsys vfs.FS
	path string
}

// lockFile takes path+".lock", overriding a stale lock.
func lockFile(ctx context.Context, fsys vfs.FS, path string, now func() time.Time, host string) (*dotlock, error) {
	lp := path + ".lock"
	deadline := now().Add(lockTimeout)
	content := []byte(strconv.Itoa(os.Getpid()) + ":" + host)
	for {
		f, err := fsys.OpenFile(lp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_, werr := f.Write(content)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				_ = fsys.Remove(lp)
				return nil, fmt.Errorf("write lock %s: %w", lp, werr)
			}
			return &dotlock{fsys: fsys, path: lp}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create lock %s: %w", lp, err)
		}
		if staleLock(fsys, lp, now(), host) {
			_ = fsys.Remove(lp)
			continue
		}
		if now().After(deadline) {
			return nil, storage.Errorf(storage.KindTemp, "Timeout while waiting for lock")
		}
		t := time.NewTimer(lockPollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// staleLock reports whether the lock at lp may be overridden: it has not
// changed for lockStaleTimeout, or it names a process of this host that
// no longer exists.
func staleLock(fsys vfs.FS, lp string, now time.Time, host string) bool {
	fi, err := fsys.Stat(lp)
	if err != nil {
		return false // vanished: retry creating
	}
	if now.Sub(fi.ModTime()) > lockStaleTimeout {
		return true
	}
	f, err := fsys.Open(lp)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	pidStr, lockHost, ok := strings.Cut(string(buf[:n]), ":")
	if !ok || lockHost != host {
		return false
	}
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func (l *dotlock) unlock() error {
	if err := l.fsys.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove lock: %w", err)
	}
	return nil
}
