package imapserver

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"roost/internal/storage"
)

// NOTIFY (RFC 5465).
//
// The events come from the user's change feed (storage.ChangeWatcher):
// every change made by any session of the user in this process, by
// delivery, and by other processes (found by the driver's poll). They
// are written whenever the connection can: while it waits for a command
// (the feed's wake callback cuts the read short through the read
// deadline, as shutdown does), during IDLE, and after a command. With
// COMPRESS active the read is not interrupted; events wait for IDLE or
// the next command.
//
// A mailbox that is not selected is reported with STATUS, as Dovecot
// words it: (MESSAGES UIDNEXT UNSEEN) when messages came or went, with
// UIDVALIDITY in the first such report of a mailbox the client was not
// told the status of by NOTIFY SET STATUS, (UNSEEN HIGHESTMODSEQ) for flag
// changes, HIGHESTMODSEQ once CONDSTORE is enabled, which asking for
// FlagChange does (as in Dovecot: a flag change is told by its MODSEQ). The session remembers the last status it
// reported for each such mailbox, so a change seen twice (in process and
// by the poll) or one that does not alter what the client asked for is
// not reported. Mailbox names are matched by the new name of a rename
// (Dovecot). The client's own changes to other mailboxes are reported
// like anybody's (Dovecot does), after the command that made them. The
// selected mailbox is reported with the usual EXISTS, EXPUNGE and FETCH
// (plus MessageNew's fetch attributes); with SELECTED-DELAYED, expunges
// wait for a command that allows them.
//
// Memory: a session without NOTIFY holds one nil pointer. A watching
// session holds its filters, a small status per covered mailbox and at
// most storage.MaxQueuedChanges queued changes; past that the client gets
// [NOTIFICATIONOVERFLOW] and notifications end (RFC 5465 section 5.8).

// notifyState is an active NOTIFY SET.
type notifyState struct {
	set  *notifySet
	sub  *storage.ChangeSub
	last map[string]notifyStatus // last status reported per mailbox
	// fresh: mailboxes whose baseline was taken after they came into view
	// and whose next message change has not been handled yet: the
	// baseline may already include that change (it can arrive in this
	// batch or a later one), so it is reported anyway.
	fresh map[string]bool
	// async is set while the connection waits for a command and may be
	// woken to write events (read by the publisher's goroutine).
	async atomic.Bool
}

// notifyStatus is what STATUS notifications compare.
type notifyStatus struct {
	messages, uidNext, uidValidity, unseen uint32
	modSeq                                 uint64
	told                                   bool // the client was told this UIDVALIDITY
}

func toNotifyStatus(s storage.Status) notifyStatus {
	return notifyStatus{messages: uint32(s.Messages), uidNext: s.UIDNext, uidValidity: s.UIDValidity,
		unseen: uint32(s.Unseen), modSeq: s.HighestModSeq}
}

// notifyOn starts notifications for set, reporting every covered
// mailbox's status first with NOTIFY SET STATUS. prev is the NOTIFY SET
// it replaces, if any: the UIDVALIDITYs it told stay told.
func (c *conn) notifyOn(ctx context.Context, w storage.ChangeWatcher, set *notifySet, prev *notifyState) error {
	st := &notifyState{set: set, last: map[string]notifyStatus{}}
	st.sub = w.WatchChanges(ctx, func() { c.notifyWake(st) })
	c.notify = st
	if set.events&evMessages == 0 {
		return nil
	}
	infos, err := c.user.List(ctx)
	if err != nil {
		return err
	}
	subs := c.subscribedFunc(ctx)
	for _, mi := range infos {
		if slices.Contains(mi.Attrs, storage.AttrNoSelect) || slices.Contains(mi.Attrs, storage.AttrNonExistent) ||
			c.sel != nil && c.sel.name == mi.Name {
			continue
		}
		g := st.groupFor(c, mi.Name, subs, false)
		if g == nil || g.events&evMessages == 0 {
			continue
		}
		s, err := c.user.Status(ctx, mi.Name)
		if err != nil {
			continue // gone meanwhile
		}
		ns := toNotifyStatus(s)
		ns.told = set.status
		if prev != nil {
			if p, ok := prev.last[mi.Name]; ok && p.told && p.uidValidity == ns.uidValidity {
				ns.told = true
			}
		}
		st.last[mi.Name] = ns
		if set.status {
			c.writeNotifyStatus(mi.Name, s, []string{"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"})
		}
	}
	return nil
}

// notifyOff ends notifications (NOTIFY NONE, a new NOTIFY SET, logout).
func (c *conn) notifyOff() {
	if c.notify != nil {
		c.notify.sub.Close()
		c.notify = nil
	}
}

// notifyWake runs on the publisher's goroutine: it cuts short the wait
// for the next command so that the events are written at once.
func (c *conn) notifyWake(st *notifyState) {
	if !st.async.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waiting {
		c.raw.SetReadDeadline(time.Now())
	}
}

// peekCommand waits for the start of the next command until deadline,
// writing notifications as they come.
func (c *conn) peekCommand(deadline time.Time) error {
	st := c.notify
	if st == nil {
		_, err := c.br.Peek(1)
		return err
	}
	st.async.Store(!c.compressed)
	defer st.async.Store(false)
	for {
		if c.br.Buffered() == 0 && st.sub.Pending() {
			if err := c.sendNotifications(c.ctx, false); err != nil {
				return err
			}
			if err := c.enc.Flush(); err != nil {
				return err
			}
		}
		_, err := c.br.Peek(1)
		if err == nil || !isTimeout(err) || !time.Now().Before(deadline) {
			return err
		}
		c.mu.Lock()
		down := c.shuttingDown
		if !down {
			c.raw.SetReadDeadline(deadline)
		}
		c.mu.Unlock()
		if down {
			return err
		}
	}
}

// sendNotifications writes the responses for the queued changes. inIdle:
// IDLE syncs the selected mailbox itself.
func (c *conn) sendNotifications(ctx context.Context, inIdle bool) error {
	st := c.notify
	if st == nil {
		return nil
	}
	changes, overflow := st.sub.Take()
	if overflow {
		c.untaggedStatus(typeOK, "NOTIFICATIONOVERFLOW", "Too many notifications, NOTIFY disabled")
		c.notifyOff()
		return nil
	}
	subs := c.subscribedFunc(ctx)
	done := map[string]bool{}
	syncSel := false
	for _, ch := range changes {
		switch ch.Kind {
		case storage.ChangeMessages:
			if c.sel != nil && ch.Mailbox == c.sel.name {
				syncSel = true
				continue
			}
			if !done[ch.Mailbox] {
				done[ch.Mailbox] = true
				c.notifyMessages(ctx, st, ch.Mailbox, subs)
			}
		case storage.ChangeMailboxName:
			c.notifyMailboxName(ctx, st, ch, subs)
		case storage.ChangeSubscription:
			subs = c.subscribedFunc(ctx) // changed: read again when needed
			c.notifySubscription(ctx, st, ch, subs)
		}
	}
	if syncSel && !inIdle {
		c.notifySyncSelected(ctx, st)
	}
	return nil
}

// notifySyncSelected announces changes of the selected mailbox between
// commands, when SELECTED or SELECTED-DELAYED asked for them.
func (c *conn) notifySyncSelected(ctx context.Context, st *notifyState) {
	g := st.set.selected
	if g == nil || g.events == 0 || c.sel == nil {
		return
	}
	opts := storage.SyncOptions{NoExpunges: g.filter == filterSelectedDelayed}
	ch, err := storage.SyncWith(ctx, c.sel.mb, opts)
	if err != nil {
		c.log.Errorf("notify sync %s: %v", c.sel.name, err)
		return
	}
	c.searchUpdatesExpunged(ch) // CONTEXT=SEARCH
	c.announceExpunges(ch.Expunged)
	if g.events&evFlagChange != 0 {
		c.announceFlags(ch.Updated)
	} else {
		c.holdFlags(ch.Updated) // for the next command to announce
	}
	c.announceCounts(ch)
	c.notifyFetchNew(ch.New)
	if len(c.sel.pending) == 0 {
		c.searchUpdates(ctx) // else with the held flags
	}
}

// notifyFetchNew writes MessageNew's fetch attributes for the last n
// messages of the selected mailbox, just announced with EXISTS.
func (c *conn) notifyFetchNew(n int) {
	st := c.notify
	if st == nil || st.set.fetch == nil || st.set.selected == nil || st.set.selected.events&evMessageNew == 0 || n <= 0 {
		return
	}
	total, at := c.sel.mb.Status().Messages, func(i int) storage.Message { return c.sel.mb.Messages()[i] }
	if ml, ok := c.sel.mb.(storage.MessageLister); ok {
		total, at = ml.Len(), ml.MessageAt
	}
	f := &fetcher{mb: c.sel.mb, enc: c.enc, req: st.set.fetch, keywords: c.sel.mb.Status().Keywords, loc: time.Local}
	for seq := max(total-n, 0) + 1; seq <= total; seq++ {
		if err := f.writeMessage(c.ctx, uint32(seq), at(seq-1), false); err != nil {
			c.log.Errorf("notify fetch %s: %v", c.sel.name, err)
			return
		}
	}
}

// notifyMessages reports a change of messages in a mailbox that is not
// selected with STATUS, when the client asked for it and what it asked
// for changed.
func (c *conn) notifyMessages(ctx context.Context, st *notifyState, name string, subs func(string) bool) {
	g := st.groupFor(c, name, subs, false)
	if g == nil || g.events&evMessages == 0 {
		return
	}
	s, err := c.user.Status(ctx, name)
	if err != nil {
		delete(st.last, name)
		return
	}
	cur := toNotifyStatus(s)
	old, had := st.last[name]
	fresh := st.fresh[name]
	delete(st.fresh, name)
	cur.told = old.told && old.uidValidity == cur.uidValidity
	st.last[name] = cur
	switch {
	case !had:
		// Not seen before (say, a mailbox renamed into view): this is
		// the baseline.
	case fresh || old.messages != cur.messages || old.uidNext != cur.uidNext || old.uidValidity != cur.uidValidity:
		items := []string{"MESSAGES", "UIDNEXT", "UNSEEN"}
		if !cur.told {
			// As Dovecot: the first report of a mailbox, or one whose
			// UIDVALIDITY changed, carries it.
			items = []string{"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"}
			cur.told = true
			st.last[name] = cur
		}
		c.writeNotifyStatus(name, s, items)
	case g.events&evFlagChange != 0 && (old.unseen != cur.unseen || old.modSeq != cur.modSeq):
		var items []string // as Dovecot: UNSEEN only when it changed
		if old.unseen != cur.unseen {
			items = []string{"UNSEEN"}
		}
		if len(items) > 0 || c.condstore() {
			c.writeNotifyStatus(name, s, items)
		}
	}
}

// notifyBaseline records the status of a mailbox that came into view
// (created, or subscribed under SUBSCRIBED), so that its first change is
// reported.
func (c *conn) notifyBaseline(ctx context.Context, st *notifyState, name string, subs func(string) bool) {
	if g := st.groupFor(c, name, subs, false); g == nil || g.events&evMessages == 0 {
		return
	}
	if s, err := c.user.Status(ctx, name); err == nil {
		st.last[name] = toNotifyStatus(s)
		if st.fresh == nil {
			st.fresh = map[string]bool{}
		}
		st.fresh[name] = true
	}
}

// writeNotifyStatus writes "* STATUS name (items...)", plus HIGHESTMODSEQ
// once CONDSTORE is enabled (FlagChange enables it, as in Dovecot).
func (c *conn) writeNotifyStatus(name string, s storage.Status, items []string) {
	vals := map[string]uint64{"MESSAGES": uint64(s.Messages), "UIDNEXT": uint64(s.UIDNext),
		"UIDVALIDITY": uint64(s.UIDValidity), "UNSEEN": uint64(s.Unseen)}
	enc := c.untagged().Atom("STATUS").SP().Mailbox(name).SP().Special('(')
	for i, it := range items {
		if i > 0 {
			enc.SP()
		}
		enc.Atom(it).SP().Number64(vals[it])
	}
	if c.condstore() {
		if len(items) > 0 {
			enc.SP()
		}
		enc.Atom("HIGHESTMODSEQ").SP().Number64(s.HighestModSeq)
	}
	enc.Special(')').CRLF()
}

// notifyMailboxName reports a created, deleted or renamed mailbox with
// LIST (RFC 5465 section 5.4): \NonExistent when deleted, OLDNAME when
// renamed (RFC 5258 section 3.1).
func (c *conn) notifyMailboxName(ctx context.Context, st *notifyState, ch storage.Change, subs func(string) bool) {
	// A rename is reported where the new name is watched (Dovecot).
	g := st.groupFor(c, ch.Mailbox, subs, false)
	if ch.OldName != "" {
		if s, ok := st.last[ch.OldName]; ok {
			delete(st.last, ch.OldName)
			st.last[ch.Mailbox] = s
		}
	}
	if ch.Deleted {
		delete(st.last, ch.Mailbox)
	}
	if _, ok := st.last[ch.Mailbox]; !ok && !ch.Deleted {
		c.notifyBaseline(ctx, st, ch.Mailbox, subs)
	}
	if g == nil || g.events&evMailboxName == 0 {
		return
	}
	var attrs []string
	if ch.Deleted {
		attrs = []string{storage.AttrNonExistent}
	}
	enc := c.untagged().Atom("LIST").SP().Flags(attrs).SP()
	writeSeparator(enc, c.nsFor(ch.Mailbox).Separator)
	enc.SP().Mailbox(ch.Mailbox)
	if ch.OldName != "" {
		enc.SP().Raw([]byte(`("OLDNAME" (`)).Mailbox(ch.OldName).Raw([]byte("))"))
	}
	enc.CRLF()
}

// notifySubscription reports a subscription change with LIST (RFC 5465
// section 5.5).
func (c *conn) notifySubscription(ctx context.Context, st *notifyState, ch storage.Change, subs func(string) bool) {
	if _, ok := st.last[ch.Mailbox]; !ok && ch.Subscribed {
		c.notifyBaseline(ctx, st, ch.Mailbox, subs) // SUBSCRIBED may cover it now
	}
	g := st.groupFor(c, ch.Mailbox, subs, true)
	if g == nil || g.events&evSubscriptionChange == 0 {
		return
	}
	var attrs []string
	if ch.Subscribed {
		attrs = []string{`\Subscribed`}
	}
	enc := c.untagged().Atom("LIST").SP().Flags(attrs).SP()
	writeSeparator(enc, c.nsFor(ch.Mailbox).Separator)
	enc.SP().Mailbox(ch.Mailbox).CRLF()
}

// groupFor returns the first event group (not SELECTED) whose mailboxes
// include name, or nil. anySubscribed makes SUBSCRIBED match whatever
// the subscription state (a mailbox just unsubscribed).
func (st *notifyState) groupFor(c *conn, name string, subs func(string) bool, anySubscribed bool) *notifyGroup {
	for i := range st.set.groups {
		g := &st.set.groups[i]
		if c.notifyMatches(g, name, subs, anySubscribed) {
			return g
		}
	}
	return nil
}

func (c *conn) notifyMatches(g *notifyGroup, name string, subs func(string) bool, anySubscribed bool) bool {
	switch g.filter {
	case filterInboxes, filterPersonal:
		// INBOXES: roost cannot tell where deliveries go (Sieve may
		// file anywhere), so it covers every personal mailbox, as
		// Dovecot does (RFC 5465 section 6.3 allows it).
		t := c.nsFor(name).Type
		return t == "" || t == "private"
	case filterSubscribed:
		return anySubscribed || subs(name)
	case filterMailboxes:
		return slices.Contains(g.names, name)
	case filterSubtree:
		for _, n := range g.names {
			if name == n || strings.HasPrefix(name, n+c.nsFor(n).Separator) {
				return true
			}
		}
	}
	return false
}

// subscribedFunc reports whether a mailbox is subscribed, reading the
// subscriptions once, when first asked.
func (c *conn) subscribedFunc(ctx context.Context) func(string) bool {
	var set map[string]bool
	return func(name string) bool {
		if set == nil {
			set = map[string]bool{}
			subs, err := c.user.Subscriptions(ctx)
			if err != nil {
				c.log.Errorf("notify subscriptions: %v", err)
			}
			for _, s := range subs {
				set[s] = true
			}
		}
		return set[name]
	}
}
