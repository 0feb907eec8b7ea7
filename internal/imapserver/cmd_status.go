package imapserver

import (
	"context"
	"strings"

	"roost/internal/imapwire"
)

// statusItems are the STATUS items in the order Dovecot answers them.
var statusItemOrder = [...]string{"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE", "APPENDLIMIT"}

// cmdStatus is STATUS (RFC 3501 section 6.3.10), plus SIZE (RFC 8438).
func cmdStatus(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) || !dec.ExpectSP() {
		return dec.Err()
	}
	want, err := c.readStatusItems(dec, "STATUS")
	if err != nil {
		return err
	}
	if !cmd.end() {
		return dec.Err()
	}
	if err := c.writeStatus(ctx, name, want); err != nil {
		return c.lookupError("status "+name, err)
	}
	if c.sel != nil && c.sel.name == name {
		// RFC 3501 section 6.3.10 advises against it; Dovecot answers
		// and flags it.
		cmd.okCode, cmd.okText = "CLIENTBUG", "Status on selected mailbox completed."
	}
	return nil
}

// readStatusItems reads a parenthesised list of STATUS items (for STATUS
// and LIST's RETURN (STATUS ...), RFC 5819). Unknown and empty lists are
// a BAD worded for cmdName.
func (c *conn) readStatusItems(dec *imapwire.Decoder, cmdName string) (map[string]bool, error) {
	want := map[string]bool{}
	var unknown string
	ok := dec.ExpectList(func() bool {
		var item string
		if !dec.ExpectAtom(&item) {
			return false
		}
		item = strings.ToUpper(item)
		if (!isStatusItem(item) && !c.statusItemAllowed(item) || item == "APPENDLIMIT" && c.srv.opts.AppendLimit <= 0) && unknown == "" {
			unknown = item
		}
		want[item] = true
		return true
	})
	switch {
	case !ok:
		return nil, dec.Err()
	case unknown != "":
		return nil, bad("", "Error in IMAP command "+cmdName+": Invalid status item "+unknown)
	case len(want) == 0:
		return nil, bad("", "Error in IMAP command "+cmdName+": Empty status list")
	}
	return want, nil
}

// writeStatus writes "* STATUS name (...)" with the wanted items.
func (c *conn) writeStatus(ctx context.Context, name string, want map[string]bool) error {
	st, err := c.user.Status(ctx, name)
	if err != nil {
		return err
	}
	if c.sel != nil && c.sel.name == name {
		// \Recent is per session: this session's view has claimed it.
		st.Recent = c.sel.mb.Status().Recent
	}
	deleted, err := c.statusDeleted(ctx, name, want)
	if err != nil {
		return err
	}
	vals := map[string]uint64{"MESSAGES": uint64(st.Messages), "RECENT": uint64(st.Recent),
		"UIDNEXT": uint64(st.UIDNext), "UIDVALIDITY": uint64(st.UIDValidity),
		"UNSEEN": uint64(st.Unseen), "SIZE": uint64(st.Size), "HIGHESTMODSEQ": st.HighestModSeq}
	if want["HIGHESTMODSEQ"] {
		if c.condstore() {
			// Dovecot opens the mailbox with the session's CONDSTORE: only
			// then does STATUS start its MODSEQs.
			c.enableStatusModSeqs(ctx, name)
		}
		c.enableCondstore() // RFC 7162 section 3.1
	}
	enc := c.untagged().Atom("STATUS").SP().Mailbox(name).SP().Special('(')
	first := true
	for _, item := range statusItemOrder {
		if !want[item] {
			continue
		}
		if !first {
			enc.SP()
		}
		first = false
		enc.Atom(item).SP()
		if item == "APPENDLIMIT" {
			// RFC 7889 section 3: NIL when there is no limit.
			if n := c.srv.opts.AppendLimit; n > 0 {
				enc.Number64(uint64(n))
			} else {
				enc.NIL()
			}
			continue
		}
		enc.Number64(vals[item])
	}
	writeStatusDeleted(enc, want, first, deleted)
	enc.Special(')').CRLF()
	return nil
}

func isStatusItem(s string) bool {
	for _, it := range statusItemOrder {
		if it == s {
			return true
		}
	}
	return false
}
