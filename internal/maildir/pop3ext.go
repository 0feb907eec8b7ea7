package maildir

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// Optional methods for the POP3 server (pop3server's StorageIDer, GUIDer,
// UIDLStore, UIDLBatchStore and SessionLocker), as Dovecot's maildir
// storage provides them: the file name (%f) and GUID (%g) of a message,
// the "P" field of dovecot-uidlist kept by pop3_save_uidl, and the
// dovecot-pop3-session.lock file of pop3_lock_session. They only add to
// the driver: nothing else calls them.

// Dovecot's uidlist extension keys (maildir-uidlist.h).
const (
	extGUID     = 'G'
	extPOP3UIDL = 'P'
)

// StorageID returns the message's file name up to ":2," (Dovecot's
// MAIL_FETCH_STORAGE_ID, pop3_uidl_format's %f).
func (v *view) StorageID(_ context.Context, uid uint32) (string, error) {
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	m := v.b.lookup(uid)
	if m == nil {
		return "", storage.Errorf(storage.KindExpunged, "Message was expunged")
	}
	return m.base(), nil
}

// GUID returns the message's GUID: the uidlist's G field, else the file
// name up to ":2," as Dovecot's maildir storage answers (%g).
func (v *view) GUID(ctx context.Context, uid uint32) (string, error) {
	g, err := v.uidlistExt(uid, extGUID)
	if err != nil || g != "" {
		return g, err
	}
	return v.StorageID(ctx, uid)
}

// POP3UIDL returns the UIDL saved in the uidlist's P field, "" when none.
func (v *view) POP3UIDL(_ context.Context, uid uint32) (string, error) {
	return v.uidlistExt(uid, extPOP3UIDL)
}

func (v *view) uidlistExt(uid uint32, key byte) (string, error) {
	b := v.b
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.lookup(uid)
	if m == nil {
		return "", storage.Errorf(storage.KindExpunged, "Message was expunged")
	}
	if err := b.fullUidlistLocked(); err != nil {
		return "", err
	}
	i, ok := b.ul.byBase[m.base()]
	if !ok {
		return "", nil
	}
	for _, e := range b.ul.recs[i].ext {
		if len(e) > 0 && e[0] == key {
			return e[1:], nil
		}
	}
	return "", nil
}

// SetPOP3UIDL saves one UIDL (pop3_save_uidl).
func (v *view) SetPOP3UIDL(ctx context.Context, uid uint32, uidl string) error {
	return v.SetPOP3UIDLs(ctx, map[uint32]string{uid: uidl})
}

// SetPOP3UIDLs saves UIDLs in the P fields of dovecot-uidlist with one
// rewrite under the uidlist lock, as Dovecot's maildir_uidlist_set_ext
// does. Messages expunged meanwhile are skipped.
func (v *view) SetPOP3UIDLs(ctx context.Context, uidls map[uint32]string) error {
	for _, u := range uidls {
		if !validExtValue(u) {
			return storage.Errorf(storage.KindParams, "UIDL %q can't be saved in dovecot-uidlist", u)
		}
	}
	b := v.b
	b.mu.Lock()
	defer b.mu.Unlock()
	ulPath := filepath.Join(b.p.control, uidlistName)
	lock, err := lockFile(ctx, b.lockOpts(), ulPath)
	if err != nil {
		return lockError(err)
	}
	defer lock.unlock()
	if err := b.rereadUidlistLocked(ulPath); err != nil {
		return err
	}
	if err := b.fullUidlistLocked(); err != nil {
		return err
	}
	changed := false
	for uid, u := range uidls {
		m := b.lookup(uid)
		if m == nil {
			continue
		}
		if i, ok := b.ul.byBase[m.base()]; ok && setExt(&b.ul.recs[i], extPOP3UIDL, u) {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := b.ul.write(b.d.fs, ulPath, b.fsyncOn(), nil); err != nil {
		return osError("write dovecot-uidlist", err)
	}
	return nil
}

// validExtValue reports whether s fits in a uidlist extension field: not
// empty, no space, no control character (POP3 UIDLs are 0x21-0x7E).
func validExtValue(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// setExt sets the extension field key of r to val, keeping the order of
// the others; it reports whether anything changed.
func setExt(r *uidRec, key byte, val string) bool {
	f := string(key) + val
	for i, e := range r.ext {
		if len(e) > 0 && e[0] == key {
			if e == f {
				return false
			}
			r.ext[i] = f
			return true
		}
	}
	r.ext = append(r.ext, f)
	return true
}

// Dovecot's POP3 session lock (src/pop3/pop3-client.c): the file
// dovecot-pop3-session.lock in the INBOX namespace's index root (the mail
// root without INDEX=), created with O_EXCL and holding "<pid>:<host>";
// a holder touches it while the session lasts, a waiter gives up after
// ten seconds, and a lock untouched for five minutes or left by a dead
// process of this host is stale.
const (
	pop3LockName         = "dovecot-pop3-session.lock"
	pop3LockWait         = 10 * time.Second
	pop3LockStaleTimeout = 5 * time.Minute
	pop3LockRefresh      = pop3LockStaleTimeout / 2
	pop3LockPoll         = 100 * time.Millisecond
)

// LockPOP3Session takes the POP3 session lock of the user's INBOX
// namespace, waiting up to ten seconds (or until ctx ends) for another
// session to release it. It fails with KindInUse when the lock stays
// held. unlock releases it; it must be called once.
func (u *user) LockPOP3Session(ctx context.Context) (unlock func(), err error) {
	m, err := u.resolve("INBOX")
	if err != nil {
		return nil, err
	}
	dir := m.ns.loc.index
	if dir == "" {
		dir = m.ns.loc.root
	}
	if err := u.d.fs.MkdirAll(dir, 0o700); err != nil {
		return nil, osError("create POP3 session lock directory", err)
	}
	l := &pop3Lock{fsys: u.d.fs, path: filepath.Join(dir, pop3LockName),
		content: strconv.Itoa(os.Getpid()) + ":" + u.d.host, now: u.d.now}
	if err := l.acquire(ctx); err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.timer = time.AfterFunc(pop3LockRefresh, l.refresh)
	l.mu.Unlock()
	return l.release, nil
}

// pop3Lock is a held dovecot-pop3-session.lock.
type pop3Lock struct {
	fsys    vfs.FS
	path    string
	content string
	now     func() time.Time

	mu    sync.Mutex // guards following
	timer *time.Timer
	ino   uint64
	done  bool
}

func (l *pop3Lock) acquire(ctx context.Context) error {
	deadline := l.now().Add(pop3LockWait)
	for {
		ok, err := l.tryCreate()
		if ok || err != nil {
			return err
		}
		if pop3LockStale(l.fsys, l.path, l.now()) {
			_ = l.fsys.Remove(l.path)
			continue
		}
		if !l.now().Before(deadline) {
			return storage.Errorf(storage.KindInUse, "Mailbox is locked by another POP3 session")
		}
		t := time.NewTimer(pop3LockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// tryCreate creates the lock file; false without error when it exists.
func (l *pop3Lock) tryCreate() (bool, error) {
	f, err := l.fsys.OpenFile(l.path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	if err != nil {
		return false, osError("create POP3 session lock", err)
	}
	_, err = f.Write([]byte(l.content))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		var fi fs.FileInfo
		if fi, err = l.fsys.Stat(l.path); err == nil {
			l.ino = vfs.Ino(fi)
		}
	}
	if err != nil {
		_ = l.fsys.Remove(l.path)
		return false, osError("write POP3 session lock", err)
	}
	return true, nil
}

// pop3LockStale reports whether the lock at path may be overridden.
func pop3LockStale(fsys vfs.FS, path string, now time.Time) bool {
	fi, err := fsys.Stat(path)
	if err != nil {
		return false // gone: retry creating
	}
	if now.Sub(fi.ModTime()) > pop3LockStaleTimeout {
		return true
	}
	return deadLocalHolder(fsys, path)
}

// deadLocalHolder reports whether the lock names a process of this host
// that no longer exists; staleLock's rule for the uidlist lock.
func deadLocalHolder(fsys vfs.FS, path string) bool {
	f, err := fsys.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, 256)
	n, _ := f.Read(buf)
	pid, host, ok := strings.Cut(string(buf[:n]), ":")
	if !ok {
		return false
	}
	myHost, _ := os.Hostname()
	if host != escapeHost(myHost) && host != myHost {
		return false
	}
	return processGone(pid)
}

// refresh touches the lock so that it never looks stale while held.
func (l *pop3Lock) refresh() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	now := l.now()
	_ = l.fsys.Chtimes(l.path, now, now)
	l.timer = time.AfterFunc(pop3LockRefresh, l.refresh)
}

// release removes the lock unless another process has replaced it.
func (l *pop3Lock) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return
	}
	l.done = true
	l.timer.Stop()
	if fi, err := l.fsys.Stat(l.path); err == nil && vfs.Ino(fi) == l.ino {
		_ = l.fsys.Remove(l.path)
	}
}

// processGone reports whether pid names no running process (never this
// one).
func processGone(pidStr string) bool {
	pid, err := strconv.Atoi(pidStr)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
