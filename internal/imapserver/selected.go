package imapserver

import (
	"context"
	"slices"
	"sort"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// selected is the selected mailbox of a connection. The storage view
// changes only when the connection calls Sync or Store, and every Sync
// result is announced at once, so the view's sequence numbers are always
// the ones the client knows.
type selected struct {
	mb       storage.Mailbox
	name     string // UTF-8, as the client named it (INBOX folded)
	readOnly bool
	recent   int // RECENT count last announced
	// pending holds UIDs whose flag changes (made elsewhere) the view
	// already shows but the client was not told of yet (preSync).
	pending map[uint32]struct{}
	texts   *textCache // folded search text, kept across SEARCH commands
	// QRESYNC (feature_condstore.go): the HIGHESTMODSEQ the client
	// last learned from a full sync, and the highest MODSEQ sent in a
	// FETCH response during the current command.
	lastFullModSeq, fetchModSeq uint64
	// saved is the SEARCHRES result $ (RFC 5182), UIDs ascending.
	saved []uint32
	// ctxSearch holds RETURN (UPDATE) searches (feature_contextsearch.go).
	ctxSearch *contextSearches
}

// messages returns the view: sequence number = index + 1. On a large
// mailbox, count, uidAt and msgAt read it without building the slice.
func (s *selected) messages() []storage.Message { return s.mb.Messages() }

// count is the number of messages in the view.
func (s *selected) count() int {
	if l, ok := s.mb.(storage.MessageLister); ok {
		return l.Len()
	}
	return len(s.mb.Messages())
}

// uidAt is the UID of sequence number i+1.
func (s *selected) uidAt(i int) uint32 {
	if l, ok := s.mb.(storage.MessageLister); ok {
		return l.UIDAt(i)
	}
	return s.mb.Messages()[i].UID
}

// msgAt is the message of sequence number i+1.
func (s *selected) msgAt(i int) storage.Message {
	if l, ok := s.mb.(storage.MessageLister); ok {
		return l.MessageAt(i)
	}
	return s.mb.Messages()[i]
}

// undatedLister is implemented by a mailbox whose MessageAt may read a
// message's dates from its file (maildir after a first scan, as Dovecot
// reads them on demand): MessageAtUndated gives the message without them.
type undatedLister interface {
	// MessageAtUndated is MessageAt(i), with InternalDate and SaveDate
	// possibly zero.
	MessageAtUndated(i int) storage.Message
}

// msgAtUndated is msgAt(i) for a caller that reads neither date.
func (s *selected) msgAtUndated(i int) storage.Message {
	if l, ok := s.mb.(undatedLister); ok {
		return l.MessageAtUndated(i)
	}
	return s.msgAt(i)
}

// seqOf returns the sequence number of uid, or 0.
func (s *selected) seqOf(uid uint32) uint32 {
	n := s.count()
	i := sort.Search(n, func(i int) bool { return s.uidAt(i) >= uid })
	if i < n && s.uidAt(i) == uid {
		return uint32(i + 1)
	}
	return 0
}

// resolve turns a sequence set (uid false) or UID set (uid true) into the
// UIDs of existing messages, ascending. Sequence numbers beyond the
// mailbox are a BAD, as in Dovecot; missing UIDs are ignored (RFC 3501
// section 6.4.8). The error is the decoder's kind, so returning it gives
// "BAD Error in IMAP command FETCH: Invalid messageset". "*" is the last message; for UIDs, "n:*" always
// includes the highest UID even when it is below n.
func (s *selected) resolve(set imap.SeqSet, uid bool) ([]uint32, error) {
	n := s.count()
	if !uid {
		return s.resolveSeqs(set, n)
	}
	var maxUID uint32
	if n > 0 {
		maxUID = s.uidAt(n - 1)
	}
	var out []uint32
	for i := range n {
		if u := s.uidAt(i); set.Contains(u, maxUID) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (s *selected) resolveSeqs(set imap.SeqSet, count int) ([]uint32, error) {
	n := uint32(count)
	for _, r := range set {
		lo, hi := r.Bounds(n)
		if lo == 0 || hi > n {
			return nil, &imapwire.SyntaxError{Msg: "Invalid messageset"}
		}
	}
	var out []uint32
	for i := range n {
		if set.Contains(i+1, n) {
			out = append(out, s.uidAt(int(i)))
		}
	}
	return out, nil
}

// sync brings the selected view up to date and announces the changes:
// EXPUNGE, then FETCH FLAGS for changes made elsewhere, then EXISTS and
// RECENT. Callers must only sync where RFC 3501 section 7.4.1 allows
// EXPUNGE; the dispatcher does it at the end of each command (see
// closingSync). Handlers rarely call it themselves (IDLE does).
func (c *conn) sync(ctx context.Context) error {
	return c.syncWith(ctx, storage.SyncOptions{})
}

// syncWith is sync with storage options: NoExpunges after the
// sequence-number forms of FETCH, STORE, SEARCH and COPY.
func (c *conn) syncWith(ctx context.Context, opts storage.SyncOptions) error {
	if c.sel == nil {
		return nil
	}
	ch, err := storage.SyncWith(ctx, c.sel.mb, opts)
	if err != nil {
		return err
	}
	c.searchUpdatesExpunged(ch) // RFC 5267: REMOVEFROM before EXPUNGE
	c.announce(ch)
	c.searchUpdates(ctx)
	return nil
}

// preSync applies the flag changes the store knows of before a command
// that reads or writes flags (FETCH, SEARCH, STORE, COPY, MOVE, EXPUNGE:
// UID EXPUNGE checks \Deleted in the view), so that it sees
// the latest flags as Dovecot's commands do; the changes are announced by
// the closing sync. A failure is left to the closing sync to report.
func (c *conn) preSync(ctx context.Context) {
	ch, err := storage.SyncWith(ctx, c.sel.mb, storage.SyncOptions{FlagsOnly: true})
	if err != nil || len(ch.Updated) == 0 {
		return
	}
	c.holdFlags(ch.Updated)
}

// announce writes the untagged responses for ch, and the flag changes
// preSync held back.
func (c *conn) announce(ch *storage.Changes) {
	if ch == nil {
		return
	}
	c.announceExpunges(ch.Expunged)
	c.announceFlags(ch.Updated)
	c.announceCounts(ch)
}

// holdFlags records flag changes to announce later (announceFlags).
func (c *conn) holdFlags(updated []storage.Message) {
	if len(updated) == 0 {
		return
	}
	if c.sel.pending == nil {
		c.sel.pending = map[uint32]struct{}{}
	}
	for _, m := range updated {
		c.sel.pending[m.UID] = struct{}{}
	}
}

// announceCounts writes EXISTS and RECENT when they changed. \Recent
// changes only with new or expunged messages or as an update (a
// read-only view whose messages another session claimed).
func (c *conn) announceCounts(ch *storage.Changes) {
	if ch.New == 0 && len(ch.Expunged) == 0 && len(ch.Updated) == 0 {
		return
	}
	st := c.sel.mb.Status()
	if ch.New > 0 {
		c.untagged().Number(uint32(st.Messages)).SP().Atom("EXISTS").CRLF()
	}
	// As Dovecot: RECENT only when the count changed.
	if recent := st.Recent; recent != c.sel.recent {
		if !c.rev2() { // RFC 9051 has no RECENT response
			c.untagged().Number(uint32(recent)).SP().Atom("RECENT").CRLF()
		}
		c.sel.recent = recent
	}
}

// announceExpunges writes "* n EXPUNGE" for each expunged message.
func (c *conn) announceExpunges(exp []storage.Expunge) {
	if c.qresync() && len(exp) > 0 { // RFC 7162 section 3.2.10
		uids := make([]uint32, len(exp))
		for i, e := range exp {
			uids[i] = e.UID
		}
		slices.Sort(uids)
		c.writeVanished(uids, false)
		return
	}
	for _, e := range exp {
		c.untagged().Number(e.Seq).SP().Atom("EXPUNGE").CRLF()
	}
}

// announceFlags writes "* n FETCH (FLAGS ...)" with the view's current
// state for each updated or pending message still in the view, in
// sequence order.
func (c *conn) announceFlags(updated []storage.Message) {
	if len(updated) == 0 && len(c.sel.pending) == 0 {
		return
	}
	seqs := make([]uint32, 0, len(updated)+len(c.sel.pending))
	seen := map[uint32]bool{}
	add := func(uid uint32) {
		if seq := c.sel.seqOf(uid); seq != 0 && !seen[uid] {
			seen[uid] = true
			seqs = append(seqs, seq)
		}
	}
	for uid := range c.sel.pending {
		add(uid)
	}
	for _, m := range updated {
		add(m.UID)
	}
	c.sel.pending = nil
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		c.writeFlagsFetch(seq, c.sel.msgAtUndated(int(seq-1)), false)
	}
}

func countRecent(msgs []storage.Message) int {
	n := 0
	for _, m := range msgs {
		if m.Recent {
			n++
		}
	}
	return n
}

// writeFlagsFetch writes "* seq FETCH ([UID u ][MODSEQ (m) ]FLAGS
// (...))" in Dovecot's order (imap_sync_send_flags): UID when withUID is
// set or QRESYNC is enabled, MODSEQ once CONDSTORE is.
func (c *conn) writeFlagsFetch(seq uint32, m storage.Message, withUID bool) {
	enc := c.untagged().Number(seq).SP().Atom("FETCH").SP().Special('(')
	if withUID || c.qresync() {
		enc.Atom("UID").SP().Number(m.UID).SP()
	}
	if c.condstore() {
		enc.Atom("MODSEQ").SP().Special('(').Number64(m.ModSeq).Special(')').SP()
		c.noteModSeq(m.ModSeq)
	}
	enc.Atom("FLAGS").SP().Raw(appendFlags(nil, flagList(c.shown(m), c.sel.mb.Status().Keywords)))
	enc.Special(')').CRLF()
}

// messageFlags returns the flags to show for m: its stored flags plus
// \Recent when it is recent in this view.
func messageFlags(m storage.Message) []string {
	if !m.Recent {
		return m.Flags
	}
	return append(append(make([]string, 0, len(m.Flags)+1), m.Flags...), imap.FlagRecent)
}

// syncFailed handles a failed closing sync: a selected mailbox that was
// deleted ends the session after the tagged response, as Dovecot does;
// anything else is logged and the session goes on.
func (c *conn) syncFailed(err error) {
	if storage.KindOf(err) == storage.KindNotFound {
		c.after = c.mailboxGone
		return
	}
	c.log.Errorf("sync %s: %v", c.sel.name, err)
}

// mailboxGone ends a session whose selected mailbox was deleted.
func (c *conn) mailboxGone() error {
	c.bye("Selected mailbox was deleted, have to disconnect.", "Selected mailbox was deleted")
	return errByeSent
}

// readSet reads a sequence set, or SEARCHRES's "$" (RFC 5182 section
// 2.4): the saved result as a UID set, with saved true so that the caller
// resolves it as UIDs. "$" cannot be combined with other numbers.
func (c *conn) readSet(d *imapwire.Decoder, set *imap.SeqSet, saved *bool) bool {
	if !d.Special('$') {
		*saved = false
		return d.ExpectSeqSet(set)
	}
	if d.Special(',') || d.Special(':') {
		return d.Fail("Invalid messageset")
	}
	*saved = true
	*set = imap.SetFromNums(c.sel.saved)
	return true
}
