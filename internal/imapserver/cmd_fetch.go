package imapserver

import (
	"context"
	"errors"
	"sort"
	"time"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// cmdFetch is FETCH and UID FETCH (RFC 3501 section 6.4.5, RFC 4315,
// RFC 7162 CHANGEDSINCE). Items come in Dovecot's order: UID first for
// UID FETCH, then the buffered items (FLAGS, INTERNALDATE, RFC822.SIZE,
// MODSEQ) in request order, then the rest in request order.
func cmdFetch(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	var set imap.SeqSet
	var saved bool
	if !d.ExpectSP() || !c.readSet(d, &set, &saved) || !d.ExpectSP() {
		return d.Err()
	}
	// Dovecot answers FETCH $ as UID FETCH (with UID items).
	req, err := parseFetchAtts(d, cmd.uid || saved)
	if err != nil {
		return err
	}
	mods, err := parseFetchModifiers(d, req)
	if err != nil {
		return err
	}
	if !d.ExpectCRLF() {
		return d.Err()
	}
	if mods.vanished && (!cmd.uid || !c.qresync() || mods.changedSince == 0) {
		// RFC 7162 section 3.2.6: UID FETCH only, with CHANGEDSINCE.
		return &imapwire.SyntaxError{Msg: "VANISHED not allowed here"}
	}
	changedSince := mods.changedSince
	uids, err := c.sel.resolve(set, cmd.uid || saved)
	if err != nil {
		return err
	}
	if mods.changedSince != 0 || req.hasModSeq() {
		c.enableCondstore()
	}
	if mods.vanished {
		gone, err := c.expungedSince(ctx, set, changedSince)
		if err != nil {
			return err
		}
		c.writeVanished(gone, true)
	}
	seen, err := c.fetchSetSeen(ctx, req, uids)
	if err != nil {
		return err
	}
	f := &fetcher{mb: c.sel.mb, enc: c.enc, req: req, keywords: c.sel.mb.Status().Keywords, loc: time.Local,
		noRecent: c.rev2(), simple: simpleRequest(req)}
	msgAt := c.sel.msgAt
	if !req.hasDates() {
		msgAt = c.sel.msgAtUndated
	}
	next := 0 // uids ascend: each is looked up from the last one's place
	for _, uid := range uids {
		var seq uint32
		if seq, next = seqFrom(c.sel, next, uid); seq == 0 {
			continue
		}
		msg := msgAt(int(seq - 1))
		if changedSince != 0 && msg.ModSeq <= changedSince {
			continue
		}
		if req.hasModSeq() {
			c.noteModSeq(msg.ModSeq)
		}
		if err := f.writeMessage(ctx, seq, msg, seen[uid]); err != nil {
			if st := (*status)(nil); errors.As(err, &st) {
				return err // BINARY of undecodable content: NO, the session goes on
			}
			return c.fetchFailed(err)
		}
		if f.streamed >= fetchFlushBytes {
			f.streamed = 0
			if err := c.enc.Flush(); err != nil {
				return err
			}
		}
	}
	f.flushLines()
	if err := c.enc.Err(); err != nil {
		return err
	}
	if f.expungeIssued {
		cmd.okCode, cmd.okText = "EXPUNGEISSUED", "Some messages were already expunged."
	}
	return nil
}

// seqFrom returns the sequence number of uid, or 0, looking from index
// from of the view on (UIDs at lower indexes are below uid), and the
// index to look from for a higher UID.
func seqFrom(s *selected, from int, uid uint32) (seq uint32, next int) {
	n := s.count()
	if from < n && s.uidAt(from) == uid {
		return uint32(from + 1), from + 1
	}
	i := from + sort.Search(n-from, func(j int) bool { return s.uidAt(from+j) >= uid })
	if i < n && s.uidAt(i) == uid {
		return uint32(i + 1), i + 1
	}
	return 0, i
}

// fetchFlushBytes is how much literal data FETCH writes between flushes,
// so that memory stays flat on big responses.
const fetchFlushBytes = 256 << 10

// fetchModifiers are FETCH's modifiers (RFC 7162 sections 3.1.4.1 and
// 3.2.6).
type fetchModifiers struct {
	changedSince uint64
	vanished     bool
}

// parseFetchModifiers reads an optional " (CHANGEDSINCE n [VANISHED])".
func parseFetchModifiers(d *imapwire.Decoder, req *fetchRequest) (fetchModifiers, error) {
	var m fetchModifiers
	if !d.SP() {
		return m, d.Err()
	}
	ok := d.ExpectList(func() bool {
		var name string
		if !d.ExpectAtom(&name) {
			return false
		}
		switch {
		case equalFold(name, "CHANGEDSINCE"):
			return d.ExpectSP() && d.ExpectNumber64(&m.changedSince)
		case equalFold(name, "VANISHED"):
			m.vanished = true
			return true
		}
		return false
	})
	if !ok {
		return m, &imapwire.SyntaxError{Msg: "Unknown FETCH modifier"}
	}
	if m.changedSince != 0 && !req.hasModSeq() {
		req.insertBuffered(fetchItem{kind: fetchModSeq})
	}
	return m, nil
}

// hasModSeq reports whether MODSEQ is among the items.
// hasDates reports whether the request shows INTERNALDATE or SAVEDATE.
func (r *fetchRequest) hasDates() bool {
	for _, it := range r.items {
		if it.kind == fetchInternalDate || it.kind == fetchSaveDate {
			return true
		}
	}
	return false
}

func (r *fetchRequest) hasModSeq() bool {
	for _, it := range r.items {
		if it.kind == fetchModSeq {
			return true
		}
	}
	return false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i]|0x20 != b[i]|0x20 {
			return false
		}
	}
	return true
}

// fetchSetSeen sets \Seen on the messages a non-PEEK body fetch reads
// (read-write mailboxes only) and reports which ones changed, so that
// their FETCH line carries the new FLAGS as Dovecot's does.
func (c *conn) fetchSetSeen(ctx context.Context, req *fetchRequest, uids []uint32) (map[uint32]bool, error) {
	if !req.setSeen || c.sel.readOnly || c.sel.mb.ReadOnly() {
		return nil, nil
	}
	var unseen []uint32
	msgs := c.sel.messages()
	for _, uid := range uids {
		if seq := c.sel.seqOf(uid); seq != 0 && !msgHasFlag(msgs[seq-1].Flags, storage.FlagSeen) {
			unseen = append(unseen, uid)
		}
	}
	if len(unseen) == 0 {
		return nil, nil
	}
	res, err := c.sel.mb.Store(ctx, unseen, storage.FlagsAdd, []string{storage.FlagSeen}, storage.StoreOptions{})
	if err != nil {
		return nil, err
	}
	seen := make(map[uint32]bool, len(res.Updated))
	for _, m := range res.Updated {
		seen[m.UID] = true
	}
	return seen, nil
}

// fetchFailed ends the connection after a failure in the middle of a
// FETCH response, which cannot be taken back ("We never want to reply
// NO to FETCH requests, BYE is preferrable", Dovecot's cmd-fetch.c).
func (c *conn) fetchFailed(err error) error {
	if isConnError(err) {
		return err
	}
	c.log.Errorf("FETCH for mailbox %s: %v", c.sel.name, err)
	c.enc.CRLF()
	c.bye(internalErrorText, "FETCH failed")
	return errShutdown
}
