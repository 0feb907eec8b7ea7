package imapserver

import (
	"context"
	"slices"
	"strings"

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
	// ChangedFlags are the flags a STORE changed on these messages (FLAG).
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

// storeEvent reports the messages whose flags a STORE changed, each with
// the flags that changed on it (old holds the flags before the STORE),
// as Pigeonhole's imap_sieve_mail_update_flags/keywords record them:
// system flags in Dovecot's order, then the keywords removed, then those
// added. Consecutive messages with the same changes share one event.
func (c *conn) storeEvent(ctx context.Context, old map[uint32][]string, res storage.StoreResult) {
	var ev *MailEvent
	for _, m := range res.Updated {
		changed := changedFlags(old[m.UID], m.Flags)
		if len(changed) == 0 {
			continue
		}
		if ev != nil && !slices.Equal(ev.ChangedFlags, changed) {
			c.mailEvent(ctx, *ev)
			ev = nil
		}
		if ev == nil {
			ev = &MailEvent{Cause: "FLAG", Mailbox: c.sel.mb.Name(), ChangedFlags: changed}
		}
		ev.UIDs = append(ev.UIDs, m.UID)
	}
	if ev != nil {
		c.mailEvent(ctx, *ev)
	}
}

// storeOldFlags returns the flags of uids before a STORE, when a
// MailEvents hook wants them.
func (c *conn) storeOldFlags(uids []uint32) map[uint32][]string {
	if c.srv.opts.MailEvents == nil {
		return nil
	}
	old := make(map[uint32][]string, len(uids))
	for _, uid := range uids {
		if seq := c.sel.seqOf(uid); seq != 0 {
			old[uid] = c.sel.msgAt(int(seq) - 1).Flags
		}
	}
	return old
}

// systemFlagOrder is the order imap_write_flags writes system flags in.
var systemFlagOrder = [...]string{storage.FlagAnswered, storage.FlagFlagged, storage.FlagDeleted, storage.FlagSeen, storage.FlagDraft}

// changedFlags lists what differs between before and after: the system
// flags set on one side only, the keywords removed, the keywords added.
func changedFlags(before, after []string) []string {
	has := func(list []string, f string) bool {
		return slices.ContainsFunc(list, func(g string) bool { return strings.EqualFold(g, f) })
	}
	isSystem := func(f string) bool { return strings.HasPrefix(f, "\\") }
	var out []string
	for _, f := range systemFlagOrder {
		if has(before, f) != has(after, f) {
			out = append(out, f)
		}
	}
	for _, f := range before {
		if !isSystem(f) && !slices.Contains(after, f) {
			out = append(out, f)
		}
	}
	for _, f := range after {
		if !isSystem(f) && !slices.Contains(before, f) {
			out = append(out, f)
		}
	}
	return out
}
