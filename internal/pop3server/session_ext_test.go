package pop3server

import (
	"context"
	"sync"
	"testing"

	"roost/internal/login"
	"roost/internal/storage"
)

// extUser wraps a store with the optional interfaces of extension.go:
// UIDLs saved in memory (batches recorded) and a session lock shared by
// every extUser of one extStore, as a lock file would be.
type extStore struct {
	mu      sync.Mutex // guards following
	saved   map[uint32]string
	batches int
	locked  bool
}

type extUser struct {
	storage.User
	s *extStore
}

func (u extUser) Open(ctx context.Context, name string, o storage.OpenOptions) (storage.Mailbox, error) {
	mb, err := u.User.Open(ctx, name, o)
	if err != nil {
		return nil, err
	}
	return extMailbox{mb, u.s}, nil
}

func (u extUser) LockPOP3Session(context.Context) (func(), error) {
	u.s.mu.Lock()
	defer u.s.mu.Unlock()
	if u.s.locked {
		return nil, storage.Errorf(storage.KindInUse, "locked")
	}
	u.s.locked = true
	return func() {
		u.s.mu.Lock()
		u.s.locked = false
		u.s.mu.Unlock()
	}, nil
}

type extMailbox struct {
	storage.Mailbox
	s *extStore
}

func (m extMailbox) POP3UIDL(_ context.Context, uid uint32) (string, error) {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	return m.s.saved[uid], nil
}

func (m extMailbox) SetPOP3UIDL(context.Context, uint32, string) error {
	panic("SetPOP3UIDL called although SetPOP3UIDLs exists")
}

func (m extMailbox) SetPOP3UIDLs(_ context.Context, uidls map[uint32]string) error {
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	m.s.batches++
	for k, v := range uidls {
		m.s.saved[k] = v
	}
	return nil
}

func newExtServer(t *testing.T, s *extStore, mod func(*Options)) *testServer {
	var ts *testServer
	ts = newTestServer(t, func(o *Options) {
		o.OpenUser = func(ctx context.Context, sess *login.Session) (storage.User, error) {
			u, err := ts.drv.OpenUser(ctx, ts.userConfig(sess.User))
			if err != nil {
				return nil, err
			}
			return extUser{u, s}, nil
		}
		mod(o)
	})
	return ts
}

// TestSaveUIDLBatch: pop3_save_uidl writes every new UIDL in one batch;
// a saved UIDL then wins over a changed pop3_uidl_format.
func TestSaveUIDLBatch(t *testing.T) {
	t.Parallel()
	s := &extStore{saved: map[uint32]string{}}
	ts := newExtServer(t, s, func(o *Options) { o.SaveUIDL = true })
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	equalLines(t, "UIDL", c.multi("UIDL", "+OK"), "1 0000000166322ec0", "2 0000000266322ec0", "3 0000000366322ec0")
	c.expect("QUIT", "+OK Logging out.")
	if s.batches != 1 || len(s.saved) != 3 {
		t.Fatalf("%d batches, saved %v", s.batches, s.saved)
	}
	ts2 := newExtServer(t, s, func(o *Options) { o.SaveUIDL, o.UIDLFormat = true, "%v.%u" })
	ts2.drv = ts.drv
	c = ts2.login("alice", "secret")
	c.expect("UIDL 2", "+OK 2 0000000266322ec0")
	c.multi("UIDL", "+OK")
	if s.batches != 1 {
		t.Errorf("saved UIDLs were saved again (%d batches)", s.batches)
	}
}

// TestSessionLocker: with a storage lock, a second session is refused with
// [IN-USE] and the lock is released at the end of the first.
func TestSessionLocker(t *testing.T) {
	t.Parallel()
	s := &extStore{saved: map[uint32]string{}}
	ts := newExtServer(t, s, func(o *Options) { o.LockSession = true })
	c1 := ts.login("alice", "secret")
	c2, _ := ts.dial()
	c2.expect("USER alice", "+OK")
	c2.expect("PASS secret", "-ERR [IN-USE] Mailbox is locked by another POP3 session.")
	c2.expectClosed()
	c1.expect("QUIT", "+OK Logging out.")
	c1.expectClosed()
	ts.login("alice", "secret").expect("QUIT", "+OK Logging out.")
}
