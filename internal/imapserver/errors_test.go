package imapserver

import (
	"context"
	"errors"
	"strings"
	"testing"

	"roost/internal/storage"
)

// faultyUser wraps a storage.User: Status fails with err, List panics.
type faultyUser struct {
	storage.User
	err error
}

func (u faultyUser) Status(ctx context.Context, name string) (storage.Status, error) {
	if name == "broken" {
		return storage.Status{}, u.err
	}
	return u.User.Status(ctx, name)
}

func (u faultyUser) List(ctx context.Context) ([]storage.MailboxInfo, error) {
	panic("list exploded")
}

func faultyServer(t *testing.T, err error) *testServer {
	ts := newTestServer(t)
	ts.srv.opts.OpenUser = func(ctx context.Context, s *Session) (storage.User, error) {
		u, err2 := ts.openUser(ctx, s)
		return faultyUser{User: u, err: err}, err2
	}
	return ts
}

func TestStorageErrorTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("disk on fire at /var/mail"), "NO [SERVERBUG] Internal error occurred. Refer to server log for more information. [2024-05-06 07:08:09]"},
		{storage.Errorf(storage.KindNoQuota, "Quota exceeded"), "NO [OVERQUOTA] Quota exceeded"},
		{storage.Errorf(storage.KindPerm, "Permission denied"), "NO [NOPERM] Permission denied"},
		{storage.Errorf(storage.KindInUse, "Locked"), "NO [INUSE] Locked"},
		{storage.Errorf(storage.KindLimit, "Too many"), "NO [LIMIT] Too many"},
		{storage.Errorf(storage.KindExpunged, "Gone"), "NO [EXPUNGEISSUED] Gone"},
		{storage.Errorf(storage.KindExists, "Exists"), "NO [ALREADYEXISTS] Exists"},
		{storage.Errorf(storage.KindNotPossible, "Can't"), "NO [CANNOT] Can't"},
		{storage.Wrap(storage.KindUnavailable, "", errors.New("nfs down")), "NO [UNAVAILABLE] Internal error occurred."},
		{storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: broken"), "NO Mailbox doesn't exist: broken"},
	}
	for _, tt := range tests {
		ts := faultyServer(t, tt.err)
		c := ts.login()
		c.cmd("a STATUS broken (MESSAGES)").status(tt.want)
		c.cmd("b LOGOUT").ok()
	}
	ts := faultyServer(t, errors.New("disk on fire at /var/mail"))
	c := ts.login()
	c.cmd("a STATUS broken (MESSAGES)").status("NO [SERVERBUG] ")
	c.cmd("b LOGOUT").ok()
	ts.srv.Close()
	if !strings.Contains(ts.log.String(), "disk on fire at /var/mail") {
		t.Errorf("log lacks the cause:\n%s", ts.log.String())
	}
}

func TestPanicClosesOnlyThatConnection(t *testing.T) {
	t.Parallel()
	ts := faultyServer(t, nil)
	other := ts.login()
	c := ts.login()
	c.send(`a LIST "" *`)
	c.expectClosed()
	other.cmd("b NOOP").ok()
	other.cmd("c LOGOUT").ok()
	ts.srv.Close()
	log := ts.log.String()
	if !strings.Contains(log, "Panic: list exploded") || !strings.Contains(log, "goroutine") {
		t.Errorf("log lacks the panic and its stack:\n%s", log)
	}
}

func TestRenameInbox(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg)
		c := ts.login()
		c.cmd("a CREATE INBOX/child").ok()
		if isMaildir(driver) {
			// As Dovecot's maildir: RENAME INBOX is refused.
			c.cmd("b RENAME INBOX old").status("NO [CANNOT] ")
			return
		}
		c.cmd("b RENAME INBOX old").ok()
		c.cmd("c STATUS INBOX (MESSAGES)").ok().equal("* STATUS INBOX (MESSAGES 0)")
		c.cmd("d STATUS old (MESSAGES)").ok().equal("* STATUS old (MESSAGES 1)")
		c.cmd(`e LIST "" *`).ok().has(`* LIST (\HasNoChildren) "/" INBOX/child`)
	})
}
