package pop3server

import (
	"context"
	"fmt"
	"os"

	"roost/internal/login"
	"roost/internal/storage"
)

// authFailed answers a failed login as pop3-login does.
func (c *conn) authFailed(user string, err error) {
	c.triedUser = user
	var le *login.Error
	reason := ""
	if e, ok := err.(*login.Error); ok {
		le = e
		reason = e.Reason
	}
	switch login.KindOf(err) {
	case login.Failed, login.Nologin:
		c.attempts++
		if reason != "" {
			c.errReply("[AUTH] " + reason)
		} else {
			c.errReply("[AUTH] " + textAuthFailed)
		}
	case login.PlaintextDisabled:
		c.attempts++
		c.errReply("[AUTH] " + textPlaintextDisabled)
	case login.UnknownMechanism:
		c.errReply("[AUTH] " + textUnknownMech)
	case login.Aborted:
		c.errReply(textAborted)
	default: // TempFail and anything unexpected
		if le == nil || le.Kind != login.TempFail {
			c.log.Errorf("auth: %v", err)
		}
		c.attempts++
		host, _ := os.Hostname()
		c.errReply(fmt.Sprintf("[SYS/TEMP] Temporary authentication failure. [%s:%s]",
			host, c.srv.opts.Now().Format("2006-01-02 15:04:05")))
	}
}

// loggedIn opens the user's INBOX and enters the TRANSACTION state; on
// failure the reply is sent and the connection ends.
func (c *conn) loggedIn(ctx context.Context, s *login.Session) error {
	c.triedUser = s.User
	c.log.Infof("Login: user=<%s>, method=%s, rip=%s, lip=%s, mpid=%d%s, session=<%s>",
		s.User, s.Mechanism, c.ci.Remote.Addr(), c.ci.Local.Addr(), os.Getpid(), c.tlsLogTag(), c.ci.SessionID)
	c.session = s
	c.log = c.srv.log.With(fmt.Sprintf("pop3(%s)<%d><%s>", s.User, os.Getpid(), c.ci.SessionID))
	u, err := c.srv.opts.OpenUser(ctx, s)
	if err != nil {
		c.log.Errorf("open mail storage: %v", err)
		c.errReply("[SYS/TEMP] " + internalErrorText)
		return &closeError{"Couldn't open mail storage"}
	}
	c.user = u
	if c.srv.opts.LockSession {
		if err := c.lockSession(ctx, s.User); err != nil {
			return err
		}
	}
	box, err := openInbox(ctx, u, &c.srv.opts)
	if err != nil {
		c.log.Errorf("Couldn't open INBOX: %v", err)
		c.storageError(err)
		return &closeError{"Couldn't open INBOX"}
	}
	c.box = box
	c.state = stateTransaction
	c.bad = 0
	c.in.Store(0)
	c.out.Store(0)
	c.ok("Logged in.")
	return nil
}

// lockSession takes the pop3_lock_session lock before INBOX is opened, as
// Dovecot's client_create does: the storage's lock file when it has one
// (shared with Dovecot and other roost processes), else this process's.
func (c *conn) lockSession(ctx context.Context, user string) error {
	if l, ok := c.user.(SessionLocker); ok {
		unlock, err := l.LockPOP3Session(ctx)
		switch {
		case err == nil:
			c.unlock = unlock
			return nil
		case storage.KindOf(err) == storage.KindInUse:
			c.errReply("[IN-USE] Mailbox is locked by another POP3 session.")
		default:
			c.log.Errorf("pop3_lock_session: %v", err)
			c.errReply("[SYS/TEMP] Failed to create POP3 session lock.")
		}
		return &closeError{"Couldn't lock POP3 session"}
	}
	unlock, ok := c.srv.lockUser(user)
	if !ok {
		c.errReply("[IN-USE] Mailbox is locked by another POP3 session.")
		return &closeError{"Couldn't lock POP3 session"}
	}
	c.unlock = unlock
	return nil
}
