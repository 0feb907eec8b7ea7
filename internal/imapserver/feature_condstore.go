package imapserver

import (
	"context"
	"slices"
	"strconv"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// CONDSTORE and QRESYNC (RFC 7162). CONDSTORE is enabled by ENABLE, by
// SELECT/EXAMINE (CONDSTORE) and by the first command that uses a MODSEQ
// (FETCH MODSEQ or CHANGEDSINCE, SEARCH MODSEQ, STORE UNCHANGEDSINCE,
// STATUS HIGHESTMODSEQ; RFC 7162 section 3.1). QRESYNC only by ENABLE,
// and it implies CONDSTORE. Once QRESYNC is enabled, expunges are
// announced as VANISHED and flag changes carry the UID.
//
// A mailbox's MODSEQs start (modseqMailbox, Dovecot's modseq tracking)
// when a CONDSTORE session selects it, saves into it, or asks for its
// STATUS HIGHESTMODSEQ, and when a session enables CONDSTORE with it
// selected; from then on SELECT reports HIGHESTMODSEQ to every client.

const (
	extCondstore = "CONDSTORE"
	extQresync   = "QRESYNC"
)

func (c *conn) condstore() bool { return c.enabled[extCondstore] }
func (c *conn) qresync() bool   { return c.enabled[extQresync] }

// modseqMailbox is a mailbox whose MODSEQs start when a client first asks
// for them, as in Dovecot's index: until then every message shares the
// HIGHESTMODSEQ; once enabled, SELECT reports HIGHESTMODSEQ even to a
// client without CONDSTORE.
type modseqMailbox interface {
	ModSeqsEnabled() bool
	EnableModSeqs(ctx context.Context) error
}

// modseqUser enables MODSEQs in a mailbox not selected (STATUS).
type modseqUser interface {
	EnableModSeqs(ctx context.Context, name string) error
}

// expungeHolder reports whether a view keeps back expunges it has not
// announced yet (Dovecot's sync_delayed_expunges).
type expungeHolder interface {
	ExpungesPending() bool
}

// enableModSeqs starts MODSEQs in the selected mailbox.
func (c *conn) enableModSeqs() {
	if m, ok := c.sel.mb.(modseqMailbox); ok {
		if err := m.EnableModSeqs(c.ctx); err != nil {
			c.log.Errorf("enable modseqs: %v", err)
		}
	}
}

// modseqsShown reports whether SELECT sends HIGHESTMODSEQ.
func (c *conn) modseqsShown() bool {
	if c.condstore() {
		return true
	}
	m, ok := c.sel.mb.(modseqMailbox)
	return ok && m.ModSeqsEnabled()
}

// enableStatusModSeqs starts MODSEQs in name for STATUS HIGHESTMODSEQ.
func (c *conn) enableStatusModSeqs(ctx context.Context, name string) {
	if c.sel != nil && c.sel.name == name {
		c.enableModSeqs()
		return
	}
	if u, ok := c.user.(modseqUser); ok {
		if err := u.EnableModSeqs(ctx, name); err != nil && storage.KindOf(err) != storage.KindNotFound {
			c.log.Errorf("enable modseqs: %v", err)
		}
	}
}

// condstoreOpens starts MODSEQs in a mailbox that a CONDSTORE session
// saves into (APPEND, COPY, MOVE), before the save: Dovecot opens it with
// the session's features.
func (c *conn) condstoreOpens(ctx context.Context, name string) {
	if c.condstore() {
		c.enableStatusModSeqs(ctx, name)
	}
}

// enableCondstore turns CONDSTORE on; with a mailbox selected Dovecot
// tells the client where it stands with "* OK [HIGHESTMODSEQ n]".
func (c *conn) enableCondstore() {
	if c.enabled[extCondstore] {
		return
	}
	c.enabled[extCondstore] = true
	if c.sel != nil {
		c.enableModSeqs()
		hi := c.sel.mb.Status().HighestModSeq
		c.untaggedStatus(typeOK, "HIGHESTMODSEQ "+strconv.FormatUint(hi, 10), "Highest")
		c.sel.lastFullModSeq = hi
	}
}

// noteModSeq records a MODSEQ sent in a FETCH response during the
// current command (Dovecot's highest_fetch_modseq).
func (c *conn) noteModSeq(m uint64) {
	if c.sel != nil && m > c.sel.fetchModSeq {
		c.sel.fetchModSeq = m
	}
}

// sendHighestModSeq tells a QRESYNC client the new HIGHESTMODSEQ after a
// sync when no FETCH response carried it, as Dovecot's
// imap_sync_send_highestmodseq: in the tagged OK when it has no response
// code, otherwise untagged. After a sync that kept expunges back, a
// FETCH response may have carried a MODSEQ that covers an expunge the
// client was not told of: it then gets the last fully synced
// HIGHESTMODSEQ again, so that it does not skip the expunge.
func (c *conn) sendHighestModSeq(st *status, noExpunges bool) {
	if c.sel == nil || !c.qresync() {
		return
	}
	hi := c.sel.mb.Status().HighestModSeq
	fetched := c.sel.fetchModSeq
	c.sel.fetchModSeq = 0
	if noExpunges {
		h, ok := c.sel.mb.(expungeHolder)
		if !ok {
			return // cannot tell: send nothing, as after held-back expunges
		}
		noExpunges = h.ExpungesPending()
	}
	var send uint64
	switch {
	case noExpunges && fetched > c.sel.lastFullModSeq:
		send = c.sel.lastFullModSeq
	case !noExpunges && hi > c.sel.lastFullModSeq && hi > fetched:
		send = hi
	}
	if !noExpunges {
		c.sel.lastFullModSeq = hi
	}
	if send == 0 {
		return
	}
	code := "HIGHESTMODSEQ " + strconv.FormatUint(send, 10)
	if st != nil && st.typ == typeOK && st.code == "" {
		st.code = code
		return
	}
	c.untaggedStatus(typeOK, code, "Highest")
}

// writeVanished writes "* VANISHED [(EARLIER) ]uids".
func (c *conn) writeVanished(uids []uint32, earlier bool) {
	if len(uids) == 0 {
		return
	}
	enc := c.untagged().Atom("VANISHED").SP()
	if earlier {
		enc.Raw([]byte("(EARLIER) "))
	}
	enc.Atom(imap.SetFromNums(uids).String()).CRLF()
}

// expungedSince returns the UIDs in set (UIDs, "*" = uidNext-1) expunged
// with a MODSEQ above modseq: from the store's expunge history when it
// reaches back far enough, otherwise every UID of the set below UIDNEXT
// that no longer exists (RFC 7162 section 3.2.5.2 allows reporting UIDs
// the client may not know).
func (c *conn) expungedSince(ctx context.Context, set imap.SeqSet, modseq uint64) ([]uint32, error) {
	st := c.sel.mb.Status()
	top := st.UIDNext - 1
	if h, ok := c.sel.mb.(storage.ExpungeHistory); ok {
		uids, ok, err := h.ExpungedSince(ctx, modseq)
		if err != nil {
			return nil, err
		}
		if ok {
			var out []uint32
			for _, u := range uids {
				if set.Contains(u, top) && c.sel.seqOf(u) == 0 {
					out = append(out, u)
				}
			}
			return out, nil
		}
	}
	return c.missingUIDs(set, top), nil
}

// maxMissingUIDs bounds the fallback VANISHED list of a huge UID set.
const maxMissingUIDs = 1 << 20

// missingUIDs returns the UIDs of set up to top that are not in the view.
func (c *conn) missingUIDs(set imap.SeqSet, top uint32) []uint32 {
	var out []uint32
	for _, r := range set {
		lo, hi := r.Start, r.Stop
		if lo == imap.Star {
			lo = top
		}
		if hi == imap.Star {
			hi = top
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		hi = min(hi, top)
		for u := max(lo, 1); u <= hi && len(out) < maxMissingUIDs; u++ {
			if c.sel.seqOf(u) == 0 {
				out = append(out, u)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// qresyncParams is SELECT's "QRESYNC (uidvalidity modseq [known-uids
// [(seqs uids)]])" (RFC 7162 section 3.2.5).
type qresyncParams struct {
	uidValidity uint32
	modSeq      uint64
	known       imap.SeqSet // nil: every UID
	seqs, uids  imap.SeqSet // seq-match-data, may be nil
}

// parseSelectParams reads SELECT/EXAMINE's optional parameter list and
// the end of the line (anything else after the name is ignored, as
// Dovecot does).
func (c *conn) parseSelectParams(cmd *command) (condstore bool, qr *qresyncParams, err error) {
	d := cmd.dec
	if !d.SP() {
		if !cmd.end() {
			return false, nil, d.Err()
		}
		return false, nil, nil
	}
	ok := d.List(func() bool {
		var name string
		if !d.ExpectAtom(&name) {
			return false
		}
		switch {
		case equalFold(name, "CONDSTORE"):
			condstore = true
			return true
		case equalFold(name, "QRESYNC") && c.qresync():
			qr = &qresyncParams{}
			return d.ExpectSP() && parseQresync(d, qr)
		}
		d.Fail("Unknown select parameter " + asciiOnly(name))
		return false
	})
	if d.Err() != nil {
		return false, nil, d.Err()
	}
	if !ok {
		return false, nil, d.DiscardLine()
	}
	if !cmd.end() {
		return false, nil, d.Err()
	}
	return condstore, qr, nil
}

func parseQresync(d *imapwire.Decoder, qr *qresyncParams) bool {
	var uv uint32
	if !d.ExpectSpecial('(') || !d.ExpectNZNumber(&uv) || !d.ExpectSP() || !d.ExpectNumber64(&qr.modSeq) {
		return false
	}
	qr.uidValidity = uv
	if d.SP() {
		if !d.ExpectSeqSet(&qr.known) {
			return false
		}
		if d.SP() {
			if !d.ExpectSpecial('(') || !d.ExpectSeqSet(&qr.seqs) || !d.ExpectSP() ||
				!d.ExpectSeqSet(&qr.uids) || !d.ExpectSpecial(')') {
				return false
			}
		}
	}
	return d.ExpectSpecial(')')
}

// writeQresync writes SELECT's resynchronisation data: VANISHED
// (EARLIER) for known UIDs expunged since the client's MODSEQ, then a
// FETCH of UID, FLAGS and MODSEQ for every message changed since.
func (c *conn) writeQresync(ctx context.Context, qr *qresyncParams) error {
	st := c.sel.mb.Status()
	if qr.uidValidity != st.UIDValidity || qr.modSeq == 0 {
		return nil // the client must resynchronise in full
	}
	known := qr.known
	if known == nil {
		known = imap.SeqSet{{Start: 1, Stop: imap.Star}}
	}
	since := qr.modSeq
	if qr.seqs != nil {
		since = c.seqMatchModSeq(qr)
	}
	gone, err := c.expungedSince(ctx, known, since)
	if err != nil {
		return err
	}
	c.writeVanished(gone, true)
	msgs := c.sel.messages()
	for i, m := range msgs {
		if m.ModSeq > qr.modSeq {
			c.writeQresyncFetch(uint32(i+1), m)
		}
	}
	return nil
}

// seqMatchModSeq uses seq-match-data (RFC 7162 section 3.2.5.2): if a
// sequence number the client names no longer maps to the UID it
// believes, the client missed expunges before its MODSEQ, so VANISHED
// must reach back to the beginning.
func (c *conn) seqMatchModSeq(qr *qresyncParams) uint64 {
	seqs := expandSet(qr.seqs)
	uids := expandSet(qr.uids)
	if len(seqs) != len(uids) {
		return 0
	}
	msgs := c.sel.messages()
	for i, s := range seqs {
		if s == 0 || int(s) > len(msgs) || msgs[s-1].UID != uids[i] {
			return 0
		}
	}
	return qr.modSeq
}

// maxSeqMatch bounds the expansion of seq-match-data.
const maxSeqMatch = 1 << 16

// expandSet lists the numbers of a set without "*", in the client's
// order; nil when it has "*" or is too long.
func expandSet(set imap.SeqSet) []uint32 {
	var out []uint32
	for _, r := range set {
		if r.Start == imap.Star || r.Stop == imap.Star {
			return nil
		}
		lo, hi := min(r.Start, r.Stop), max(r.Start, r.Stop)
		for n := lo; n <= hi; n++ {
			if len(out) >= maxSeqMatch {
				return nil
			}
			out = append(out, n)
		}
	}
	return out
}

// writeQresyncFetch writes "* seq FETCH (UID u FLAGS (...) MODSEQ (m))".
func (c *conn) writeQresyncFetch(seq uint32, m storage.Message) {
	c.untagged().Number(seq).SP().Atom("FETCH").SP().Special('(').
		Atom("UID").SP().Number(m.UID).SP().
		Atom("FLAGS").SP().Flags(messageFlags(c.shown(m))).SP().
		Atom("MODSEQ").SP().Special('(').Number64(m.ModSeq).Special(')').
		Special(')').CRLF()
	c.noteModSeq(m.ModSeq)
}
