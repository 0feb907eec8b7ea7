package pop3server

import (
	"context"
	"fmt"
	"slices"

	"roost/internal/storage"
)

// inbox is the session's INBOX: the message list fixed at login (POP3
// message numbers are indexes + 1), and the DELE and \Seen marks.
type inbox struct {
	opts        *Options
	mb          storage.Mailbox
	uidValidity uint32
	msgs        []storage.Message
	total       int64

	deleted      []bool
	deletedCount int
	deletedSize  int64
	seen         []bool // RETR of an unseen message; nil with pop3_no_flag_updates
	seenChanges  int

	uidls []string // every message's UIDL, once UIDL listed them

	lastSeen       int // LAST: highest message number seen
	lowestRetr     int // lowest message number RETRed, for uidl_change
	highestExpired int // highest message number that answered "expunged"
}

// openInbox opens INBOX and fixes the message list. Opening it read-write
// claims \Recent (Dovecot's MAILBOX_FLAG_DROP_RECENT).
func openInbox(ctx context.Context, u storage.User, o *Options) (*inbox, error) {
	mb, err := u.Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		return nil, err
	}
	if _, err := mb.Sync(ctx); err != nil {
		mb.Close()
		return nil, err
	}
	b := &inbox{opts: o, mb: mb, uidValidity: mb.Status().UIDValidity, highestExpired: -1}
	for _, m := range mb.Messages() {
		if o.DeletedFlag != "" && slices.Contains(m.Flags, o.DeletedFlag) {
			continue
		}
		m.Flags = slices.Clone(m.Flags)
		b.msgs = append(b.msgs, m)
		b.total += m.Size
		if slices.Contains(m.Flags, storage.FlagSeen) {
			b.lastSeen = len(b.msgs)
		}
	}
	b.deleted = make([]bool, len(b.msgs))
	if !o.NoFlagUpdates && len(b.msgs) > 0 {
		b.seen = make([]bool, len(b.msgs))
	}
	return b, nil
}

func (b *inbox) close() {
	b.mb.Close()
}

// count and size are STAT's numbers: messages not marked deleted.
func (b *inbox) count() int  { return len(b.msgs) - b.deletedCount }
func (b *inbox) size() int64 { return b.total - b.deletedSize }
func (b *inbox) isSeen(i int) bool {
	return slices.Contains(b.msgs[i].Flags, storage.FlagSeen)
}

// markRetrieved notes that message i was sent whole (RETR).
func (b *inbox) markRetrieved(i int) {
	if b.lowestRetr == 0 || i+1 < b.lowestRetr {
		b.lowestRetr = i + 1
	}
	if b.lastSeen < i+1 {
		b.lastSeen = i + 1
	}
	if b.seen != nil && !b.seen[i] && !b.isSeen(i) {
		b.seen[i] = true
		b.seenChanges++
	}
}

func (b *inbox) dele(i int) {
	b.deleted[i] = true
	b.deletedCount++
	b.deletedSize += b.msgs[i].Size
}

// rset clears the DELE and \Seen marks.
func (b *inbox) rset() {
	clear(b.deleted)
	b.deletedCount, b.deletedSize = 0, 0
	if b.seen != nil {
		clear(b.seen)
	}
	b.seenChanges = 0
	b.lastSeen = 0
}

// commit is the UPDATE state: \Seen for retrieved messages, then the
// deletion of marked ones. It reports whether any message was marked.
func (b *inbox) commit(ctx context.Context) (bool, error) {
	if err := b.commitSeen(ctx); err != nil {
		return false, err
	}
	var del []uint32
	for i, d := range b.deleted {
		if d {
			del = append(del, b.msgs[i].UID)
		}
	}
	if len(del) == 0 || b.mb.ReadOnly() {
		return b.deletedCount > 0, nil
	}
	if b.opts.DeleteType == DeleteFlag {
		if _, err := b.mb.Store(ctx, del, storage.FlagsAdd, []string{b.opts.DeletedFlag}, storage.StoreOptions{}); err != nil {
			return false, fmt.Errorf("add %s: %w", b.opts.DeletedFlag, err)
		}
		return true, nil
	}
	if err := b.mb.Expunge(ctx, del); err != nil {
		return false, fmt.Errorf("expunge: %w", err)
	}
	return true, nil
}

// commitSeen writes \Seen for messages retrieved and not marked deleted.
func (b *inbox) commitSeen(ctx context.Context) error {
	if b.seenChanges == 0 || b.mb.ReadOnly() {
		return nil
	}
	var uids []uint32
	for i, s := range b.seen {
		if s && !b.deleted[i] {
			uids = append(uids, b.msgs[i].UID)
		}
	}
	b.seenChanges = 0
	if len(uids) == 0 {
		return nil
	}
	if _, err := b.mb.Store(ctx, uids, storage.FlagsAdd, []string{storage.FlagSeen}, storage.StoreOptions{}); err != nil {
		return fmt.Errorf("store \\Seen: %w", err)
	}
	return nil
}
