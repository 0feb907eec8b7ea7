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

// dotlock is a held "<path>.lock" file holding "<pid>:<host>", as
// Dovecot's file-dotlock.c creates it.
type dotlock struct {
	fsys vfs.FS
	path string
}

// lockOpts says how lockFile creates locks: with dotlock_use_excl = yes
// (Dovecot's default) the lock is created with O_EXCL and written; with
// no (NFSv2, whose O_EXCL is not atomic) it is written to a temporary
// file beside it and linked to the lock name.
type lockOpts struct {
	fsys vfs.FS
	now  func() time.Time
	host string
	link bool
}

// lockOpts are the box's lock options.
func (b *box) lockOpts() lockOpts {
	return lockOpts{fsys: b.d.fs, now: b.d.now, host: b.d.host, link: b.p.lockLink}
}

// lockOpts are the user's lock options with the clock now.
func (u *user) lockOpts(now func() time.Time) lockOpts {
	return lockOpts{fsys: u.d.fs, now: now, host: u.d.host, link: u.cfg.DotlockLink}
}

// lockFile takes path+".lock", overriding a stale lock.
func lockFile(ctx context.Context, o lockOpts, path string) (*dotlock, error) {
	lp := path + ".lock"
	deadline := o.now().Add(lockTimeout)
	content := []byte(strconv.Itoa(os.Getpid()) + ":" + o.host)
	tmp := ""
	defer func() {
		if tmp != "" {
			_ = o.fsys.Remove(tmp)
		}
	}()
	var made time.Time
	for {
		var err error
		if o.link {
			err = o.linkLock(lp, content, &tmp, &made)
		} else {
			err = createLock(o.fsys, lp, content)
		}
		if err == nil {
			return &dotlock{fsys: o.fsys, path: lp}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		if staleLock(o.fsys, lp, o.now(), o.host) {
			_ = o.fsys.Remove(lp)
			continue
		}
		if o.now().After(deadline) {
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

// createLock creates the lock with O_EXCL and writes its content; an
// error matching fs.ErrExist means another holder has it. A process
// killed between the create and the write leaves an empty lock, which
// staleLock overrides after lockStaleTimeout (as Dovecot does).
func createLock(fsys vfs.FS, lp string, content []byte) error {
	f, err := fsys.OpenFile(lp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("create lock %s: %w", lp, err)
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = fsys.Remove(lp)
		return fmt.Errorf("write lock %s: %w", lp, err)
	}
	return nil
}

// linkLock links the temporary file *tmp (written on first use) to the
// lock name; the lock never appears without its content.
func (o lockOpts) linkLock(lp string, content []byte, tmp *string, made *time.Time) error {
	switch t := o.now(); {
	case *tmp == "":
		var err error
		if *tmp, err = writeLockTmp(o.fsys, lp, o.host, content); err != nil {
			return err
		}
		*made = t
	case t.Sub(*made) > time.Second:
		// waited: the lock must not look as old as our wait
		_ = o.fsys.Chtimes(*tmp, t, t)
		*made = t
	}
	err := o.fsys.Link(*tmp, lp)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create lock %s: %w", lp, err)
	}
	return err
}

// writeLockTmp writes the lock's content to a new file beside it, which
// linkLock then links to the lock name.
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
