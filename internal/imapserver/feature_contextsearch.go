package imapserver

// CONTEXT=SEARCH (RFC 5267 section 4): RETURN (PARTIAL m:n), (CONTEXT)
// and (UPDATE) for SEARCH and SORT, the ADDTO and REMOVEFROM updates,
// CANCELUPDATE and NOUPDATE. As Dovecot 2.3: CONTEXT is only a hint,
// positions in ADDTO/REMOVEFROM are always 0 (also for SORT), UPDATE
// adds nothing to the first answer (RETURN (UPDATE) alone prints no
// ALL), and updates are ADDTO/REMOVEFROM whatever else was asked (MIN,
// MAX, COUNT, PARTIAL are not sent again).

import (
	"context"
	"slices"
	"strconv"

	"roost/internal/imap"
	"roost/internal/storage"
)

// maxSearchUpdates bounds the UPDATE contexts of one selected mailbox;
// a search past it answers once and says NOUPDATE (RFC 5267 section
// 4.3). Dovecot has no limit.
const maxSearchUpdates = 32

// searchUpdate is one SEARCH or SORT RETURN (UPDATE) context.
type searchUpdate struct {
	tag    string
	uid    bool       // results in UIDs (UID SEARCH/SORT)
	prog   *searchKey // re-evaluated when the mailbox changes
	result []uint32   // matching UIDs, ascending
	state  boxState   // the mailbox state result was computed for
}

// boxState is what changes when a search result may have: the highest
// MODSEQ (flags), the message count and UIDNEXT.
type boxState struct {
	modSeq   uint64
	messages int
	uidNext  uint32
}

func stateOf(st storage.Status) boxState {
	return boxState{modSeq: st.HighestModSeq, messages: st.Messages, uidNext: st.UIDNext}
}

// contextSearches are the UPDATE contexts of the selected mailbox.
type contextSearches struct {
	updates []*searchUpdate // in the order they were made
}

// contextOption parses the CONTEXT=SEARCH RETURN options (name upper
// case) and reports whether it was one; msg is the syntax error, if any.
func (p *searchParser) contextOption(name string) (known bool, msg string) {
	switch name {
	case "CONTEXT": // a hint that a later UPDATE or PARTIAL may come
		return true, ""
	case "UPDATE":
		p.ret.Update = true
		return true, ""
	case "PARTIAL":
		var r string
		if !p.d.ExpectSP() || !p.d.ExpectAtom(&r) {
			return true, ""
		}
		pr, err := imap.ParsePartialRange(r)
		if err != nil {
			return true, "Invalid PARTIAL range"
		}
		p.ret.Partial = &pr
		return true, ""
	}
	return false, ""
}

// contextCheck finishes the RETURN options: ALL and PARTIAL exclude each
// other; RETURN () (or only CONTEXT) is RETURN (ALL).
func (p *searchParser) contextCheck() error {
	r := p.ret
	if r.All && r.Partial != nil {
		return searchError(p.cmd, "ALL and PARTIAL are mutually exclusive")
	}
	if !r.Min && !r.Max && !r.Count && !r.Save && !r.Update && r.Partial == nil {
		r.All = true
	}
	return nil
}

// checkUpdateTag refuses UPDATE with the tag of a live context.
func (c *conn) checkUpdateTag(cmd *command, ret imap.SearchReturn) error {
	if !ret.Update || c.sel.ctxSearch == nil {
		return nil
	}
	for _, u := range c.sel.ctxSearch.updates {
		if u.tag == cmd.tag {
			return bad("", "Error in IMAP command "+cmd.fullName()+": Duplicate search update tag")
		}
	}
	return nil
}

// addSearchUpdate keeps a RETURN (UPDATE) search as a context whose
// changes are announced after each sync; uids is its whole result.
func (c *conn) addSearchUpdate(cmd *command, ret imap.SearchReturn, prog *searchKey, uids []uint32) {
	if !ret.Update {
		return
	}
	cs := c.sel.ctxSearch
	if cs == nil {
		cs = &contextSearches{}
		c.sel.ctxSearch = cs
	}
	if len(cs.updates) >= maxSearchUpdates {
		c.untaggedStatus(typeNO, "NOUPDATE "+quoteTag(cmd.tag), "Too many search update contexts.")
		return
	}
	result := slices.Clone(uids)
	slices.Sort(result)
	cs.updates = append(cs.updates, &searchUpdate{tag: cmd.tag, uid: cmd.uid, prog: prog, result: result,
		state: stateOf(c.sel.mb.Status())})
}

// searchUpdatesExpunged writes REMOVEFROM for the expunged messages that
// were in a context's result, before the EXPUNGE responses, with the
// sequence numbers the client still knows.
func (c *conn) searchUpdatesExpunged(ch *storage.Changes) {
	if c.sel == nil || c.sel.ctxSearch == nil || ch == nil || len(ch.Expunged) == 0 {
		return
	}
	gone := make([]uint32, len(ch.Expunged))
	for i, e := range ch.Expunged {
		gone[i] = e.UID
	}
	slices.Sort(gone)
	for _, u := range c.sel.ctxSearch.updates {
		var removed []uint32
		u.result = slices.DeleteFunc(u.result, func(uid uint32) bool {
			if _, ok := slices.BinarySearch(gone, uid); !ok {
				return false
			}
			removed = append(removed, uid)
			return true
		})
		if !u.uid {
			for i, uid := range removed {
				removed[i] = c.preExpungeSeq(uid, gone)
			}
		}
		c.writeSearchUpdate(u, removed, nil)
	}
}

// preExpungeSeq is the sequence number uid had before the expunges in
// gone (ascending UIDs) were applied to the view: the messages still in
// the view with smaller UIDs plus the expunged ones. Messages new in this
// sync have larger UIDs than any expunged one.
func (c *conn) preExpungeSeq(uid uint32, gone []uint32) uint32 {
	lo, hi := 0, c.sel.count()
	for lo < hi { // first view index with a UID above uid
		mid := (lo + hi) / 2
		if c.sel.uidAt(mid) < uid {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	before, _ := slices.BinarySearch(gone, uid)
	return uint32(lo + before + 1)
}

// searchUpdates re-evaluates the contexts after a sync (and after the
// connection's own STORE, APPEND or COPY) and writes REMOVEFROM and
// ADDTO for what left and joined each result.
func (c *conn) searchUpdates(ctx context.Context) {
	if c.sel == nil || c.sel.ctxSearch == nil || len(c.sel.ctxSearch.updates) == 0 {
		return
	}
	now := stateOf(c.sel.mb.Status())
	for _, u := range c.sel.ctxSearch.updates {
		if u.state == now {
			continue
		}
		u.state = now
		s, hits, err := c.runSearch(ctx, u.prog)
		if err != nil {
			c.log.Errorf("search update %s: %v", u.tag, err)
			continue
		}
		result := resultUIDs(s, hits)
		slices.Sort(result)
		removed, added := diffUIDs(u.result, result)
		u.result = result
		c.writeSearchUpdate(u, c.updateNums(u, removed), c.updateNums(u, added))
	}
}

// updateNums turns UIDs into what the context reports: UIDs, or
// sequence numbers of the current view.
func (c *conn) updateNums(u *searchUpdate, uids []uint32) []uint32 {
	if u.uid {
		return uids
	}
	out := make([]uint32, 0, len(uids))
	for _, uid := range uids {
		if seq := c.sel.seqOf(uid); seq != 0 {
			out = append(out, seq)
		}
	}
	return out
}

// diffUIDs returns what is in a but not b, and in b but not a (both
// ascending).
func diffUIDs(a, b []uint32) (onlyA, onlyB []uint32) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			onlyA = append(onlyA, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			onlyB = append(onlyB, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return onlyA, onlyB
}

// writeSearchUpdate writes `* ESEARCH (TAG "t") [UID] REMOVEFROM (0
// set) ADDTO (0 set)`, each part only when it has messages (Dovecot's
// form: one line per context, removals first).
func (c *conn) writeSearchUpdate(u *searchUpdate, removed, added []uint32) {
	if len(removed) == 0 && len(added) == 0 {
		return
	}
	line := append([]byte("* ESEARCH (TAG "), quoteTag(u.tag)...)
	line = append(line, ')')
	if u.uid {
		line = append(line, " UID"...)
	}
	for _, p := range []struct {
		kind string
		nums []uint32
	}{{"REMOVEFROM", removed}, {"ADDTO", added}} {
		if len(p.nums) == 0 {
			continue
		}
		slices.Sort(p.nums)
		line = append(line, ' ')
		line = append(line, p.kind...)
		line = append(line, " (0 "...)
		line = append(line, imap.FormatNums(p.nums)...)
		line = append(line, ')')
	}
	c.enc.Raw(append(line, "\r\n"...))
}

// quoteTag quotes a command tag (tags are atoms: no escaping needed).
func quoteTag(tag string) string { return strconv.Quote(tag) }

// cmdCancelUpdate is CANCELUPDATE (RFC 5267 section 4.3): one or more
// quoted tags of UPDATE contexts to drop. As Dovecot, the tags are
// cancelled in order up to the first unknown one (NO); an atom is BAD.
func cmdCancelUpdate(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	if !d.ExpectSP() {
		return d.Err()
	}
	var tags []string
	for {
		var tag string
		if !d.Quoted(&tag) && (d.Err() != nil || !d.Literal(&tag)) {
			if d.Err() != nil {
				return d.Err()
			}
			return bad("", "Error in IMAP command CANCELUPDATE: Invalid parameters")
		}
		tags = append(tags, tag)
		if !d.SP() {
			break
		}
	}
	if !d.ExpectCRLF() {
		return d.Err()
	}
	for _, tag := range tags {
		if !c.cancelSearchUpdate(tag) {
			return no("", "Unknown search update tag.")
		}
	}
	return nil
}

func (c *conn) cancelSearchUpdate(tag string) bool {
	cs := c.sel.ctxSearch
	if cs == nil {
		return false
	}
	for i, u := range cs.updates {
		if u.tag == tag {
			cs.updates = slices.Delete(cs.updates, i, i+1)
			return true
		}
	}
	return false
}

// resultUIDs returns the UIDs of a search's hits.
func resultUIDs(s *searcher, hits []int) []uint32 {
	uids := make([]uint32, len(hits))
	for i, h := range hits {
		uids[i] = s.uidAt(h)
	}
	return uids
}

// sortUIDs returns the UIDs of a sort result.
func sortUIDs(data []imap.SortData) []uint32 {
	uids := make([]uint32, len(data))
	for i := range data {
		uids[i] = data[i].UID
	}
	return uids
}
