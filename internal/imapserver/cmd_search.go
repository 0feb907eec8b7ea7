package imapserver

import (
	"context"
	"strconv"
	"time"

	"roost/internal/imap"
)

// cmdSearch is SEARCH and UID SEARCH (RFC 3501 section 6.4.4, RFC 4315),
// with RETURN (...) answered by ESEARCH (RFC 4731) and SAVE kept as $
// (RFC 5182). UID SEARCH answers with UIDs in a plain "* SEARCH" line.
func cmdSearch(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	if !d.ExpectSP() {
		return d.Err()
	}
	var ret imap.SearchReturn
	p := &searchParser{d: d, cmd: cmd.fullName(), ret: &ret, utf8Only: c.enabled[extUTF8Accept]}
	prog, err := p.program()
	if err != nil {
		return err
	}
	if !d.ExpectCRLF() {
		return d.Err()
	}
	if err := c.checkUpdateTag(cmd, ret); err != nil {
		return err
	}
	s, hits, err := c.runSearch(ctx, prog)
	if err != nil {
		return err
	}
	withModSeq := hasModSeqKey(prog)
	if withModSeq {
		c.enableCondstore()
	}
	var hi uint64
	nums := make([]uint32, len(hits))
	for j, i := range hits {
		if withModSeq {
			hi = max(hi, s.msgAt(i).ModSeq)
		}
		nums[j] = uint32(i + 1)
		if cmd.uid {
			nums[j] = s.uidAt(i)
		}
	}
	if c.searchAnswer(p.returned, &ret) { // IMAP4rev2: always ESEARCH
		c.saveResult(ret, s, hits)
		c.writeESearch(cmd, ret, nums, withModSeq, hi)
		c.addSearchUpdate(cmd, ret, prog, resultUIDs(s, hits))
		return nil
	}
	enc := c.untagged().Atom("SEARCH")
	for _, n := range nums {
		enc.SP().Number(n)
	}
	if withModSeq && len(hits) > 0 {
		enc.SP().Special('(').Atom("MODSEQ").SP().Number64(hi).Special(')')
	}
	enc.CRLF()
	return nil
}

// runSearch evaluates prog against the selected mailbox and returns the
// indexes of the matching messages, ascending.
func (c *conn) runSearch(ctx context.Context, prog *searchKey) (*searcher, []int, error) {
	s := newSearcher(c.sel.mb, time.Local, c.srv.opts.Now())
	if c.sel.texts == nil {
		c.sel.texts = newTextCache()
	}
	s.texts = c.sel.texts
	s.saved = c.sel.saved
	hits, err := s.run(ctx, prog)
	return s, hits, err
}

// writeESearch writes "* ESEARCH (TAG "t") [UID] ..." and, for a search
// with MODSEQ, the result's highest MODSEQ (RFC 7162 section 3.1.5).
func (c *conn) writeESearch(cmd *command, ret imap.SearchReturn, nums []uint32, withModSeq bool, hi uint64) {
	if ret.Save && !ret.Min && !ret.Max && !ret.All && !ret.Count && ret.Partial == nil && !ret.Update {
		return // RFC 5182 section 2.1: SAVE alone answers nothing
	}
	line := imap.AppendESearch(nil, cmd.tag, cmd.uid, ret, nums)
	if withModSeq && len(nums) > 0 {
		line = append(line[:len(line)-2], " MODSEQ "...)
		line = strconv.AppendUint(line, hi, 10)
		line = append(line, "\r\n"...)
	}
	c.enc.Raw(line)
}

// saveResult keeps the result as $ (RFC 5182) when RETURN has SAVE.
func (c *conn) saveResult(ret imap.SearchReturn, s *searcher, hits []int) {
	if !ret.Save {
		return
	}
	uids := make([]uint32, len(hits))
	for j, i := range hits {
		uids[j] = s.uidAt(i)
	}
	c.sel.saved = imap.SavedResult(ret, uids)
}
