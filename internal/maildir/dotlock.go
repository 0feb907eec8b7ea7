package maildir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// processStart is when this process started (set once); lockClockSlack
// covers the kernel's coarse file timestamps.
var processStart = time.Now()

const lockClockSlack = 20 * time.Millisecond

// dotlock is a held "<path>.lock" file, as Dovecot's file-dotlock.c
// creates it: linked from a temporary file holding "<pid>:<host>".
type dotlock struct {
	fsys vfs.FS
	path string
}

// lockFile takes path+".lock", overriding a stale lock.
func lockFile(ctx context.Context, fsys vfs.FS, path string, now func() time.Time, host string) (*dotlock, error) {
	lp := path + ".lock"
	deadline := now().Add(lockTimeout)
	content := []byte(strconv.Itoa(os.Getpid()) + ":" + host)
	tmp := ""
	defer func() {
		if tmp != "" {
			_ = fsys.Remove(tmp)
		}
	}()
	var made time.Time
	for {
		switch t := now(); {
		case tmp == "":
			var err error
			if tmp, err = writeLockTmp(fsys, lp, host, content); err != nil {
				return nil, err
			}
			made = t
		case t.Sub(made) > time.Second:
			// waited: the lock must not look as old as our wait
			_ = fsys.Chtimes(tmp, t, t)
			made = t
		}
		err := fsys.Link(tmp, lp)
		if err == nil {
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

// writeLockTmp writes the lock's content to a new file beside it, which
// lockFile then links to the lock name (Dovecot's file-dotlock.c does the
// same unless dotlock_use_excl is set): the lock appears with
// "<pid>:<host>" in it, so a process killed while locking never leaves an
// empty lock, which others could only override after lockStaleTimeout.
func writeLockTmp(fsys vfs.FS, lp, host string, content []byte) (string, error) {
	prefix := filepath.Join(filepath.Dir(lp), ".temp."+host+"."+strconv.Itoa(os.Getpid())+".")
	for i := 0; ; i++ {
		tmp := prefix + strconv.FormatUint(rand.Uint64(), 36)
		f, err := fsys.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if errors.Is(err, fs.ErrExist) && i < 10 {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("create lock %s: %w", lp, err)
		}
		_, err = f.Write(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = fsys.Remove(tmp)
			return "", fmt.Errorf("write lock %s: %w", lp, err)
		}
		return tmp, nil
	}
}

// staleLock reports whether the lock at lp may be overridden: neither it
// nor the file it protects has changed for lockStaleTimeout (Dovecot's
// rule: a holder busy rewriting the file keeps its lock), or it names a
// process of this host that no longer exists.
func staleLock(fsys vfs.FS, lp string, now time.Time, host string) bool {
	fi, err := fsys.Stat(lp)
	if err != nil {
		return false // vanished: retry creating
	}
	if now.Sub(fi.ModTime()) > lockStaleTimeout {
		pf, err := fsys.Stat(strings.TrimSuffix(lp, ".lock"))
		if err != nil || now.Sub(pf.ModTime()) > lockStaleTimeout {
			return true // a missing file has not changed either
		}
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
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		// Another goroutine's lock, unless it is older than this process:
		// a previous instance with the same pid (pid 1 in a container).
		return fi.ModTime().Before(processStart.Add(-lockClockSlack))
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func (l *dotlock) unlock() error {
	if err := l.fsys.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove lock: %w", err)
	}
	return nil
}
