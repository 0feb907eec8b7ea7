package imapserver

import (
	"context"
	"time"
)

// cmdSearch is SEARCH and UID SEARCH (RFC 3501 section 6.4.4, RFC 4315).
// UID SEARCH answers with UIDs in a plain "* SEARCH" line.
func cmdSearch(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	if !d.ExpectSP() {
		return d.Err()
	}
	prog, err := parseSearch(d, cmd.fullName())
	if err != nil {
		return err
	}
	if !d.ExpectCRLF() {
		return d.Err()
	}
	s := newSearcher(c.sel.mb, time.Local, c.srv.opts.Now())
	if c.sel.texts == nil {
		c.sel.texts = newTextCache()
	}
	s.texts = c.sel.texts
	hits, err := s.run(ctx, prog)
	if err != nil {
		return err
	}
	withModSeq := hasModSeqKey(prog)
	if withModSeq {
		c.enableCondstore()
	}
	enc := c.untagged().Atom("SEARCH")
	var hi uint64
	for _, i := range hits {
		hi = max(hi, s.msgs[i].ModSeq)
		if cmd.uid {
			enc.SP().Number(s.msgs[i].UID)
		} else {
			enc.SP().Number(uint32(i + 1))
		}
	}
	if withModSeq && len(hits) > 0 {
		enc.SP().Special('(').Atom("MODSEQ").SP().Number64(hi).Special(')')
	}
	enc.CRLF()
	return nil
}
