package imapserver

import (
	"context"

	"roost/internal/storage"
)

// MailEvent is a change to stored mail that Pigeonhole's imap_sieve
// plugin reacts to (RFC 6785 section 3): messages saved by APPEND, copied
// or moved by COPY/MOVE (cause "COPY", as Pigeonhole reports MOVE), or
// whose flags a STORE changed (cause "FLAG").
type MailEvent struct {
	// Cause is "APPEND", "COPY" or "FLAG".
	Cause string
	// Mailbox is where the messages are now.
	Mailbox string
	// From is the source mailbox of COPY and MOVE.
	From string
	// UIDs are the messages in Mailbox.
	UIDs []uint32
	// ChangedFlags are the flags a STORE named (FLAG).
	ChangedFlags []string
}

// MailEvents receives MailEvents (Options.MailEvents). It is called on
// the connection's goroutine after the change is committed and before
// the tagged reply, as Pigeonhole runs imapsieve scripts within the
// command; it must not use the session's selected view. Its failures are
// its own to log: the command has succeeded.
type MailEvents interface {
	MailEvent(ctx context.Context, s *Session, u storage.User, ev MailEvent)
}

// mailEvent hands ev to Options.MailEvents, if set.
func (c *conn) mailEvent(ctx context.Context, ev MailEvent) {
	h := c.srv.opts.MailEvents
	if h == nil || len(ev.UIDs) == 0 || c.user == nil {
		return
	}
	h.MailEvent(ctx, c.session, c.user, ev)
}

// appendEvent reports the messages an APPEND saved.
func (c *conn) appendEvent(ctx context.Context, mailbox string, res []storage.AppendResult) {
	uids := make([]uint32, 0, len(res))
	for _, r := range res {
		uids = append(uids, r.UID)
	}
	c.mailEvent(ctx, MailEvent{Cause: "APPEND", Mailbox: mailbox, UIDs: uids})
}

// storeEvent reports the messages whose flags a STORE changed.
func (c *conn) storeEvent(ctx context.Context, flags []string, res storage.StoreResult) {
	uids := make([]uint32, 0, len(res.Updated))
	for _, m := range res.Updated {
		uids = append(uids, m.UID)
	}
	c.mailEvent(ctx, MailEvent{Cause: "FLAG", Mailbox: c.sel.mb.Name(), UIDs: uids, ChangedFlags: flags})
}
