package imapserver

import (
	"context"
	"strings"
)

// statusItems are the STATUS items in the order Dovecot answers them.
var statusItemOrder = [...]string{"MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE", "APPENDLIMIT"}

// cmdStatus is STATUS (RFC 3501 section 6.3.10), plus SIZE (RFC 8438).
func cmdStatus(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var name string
	want := map[string]bool{}
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) || !dec.ExpectSP() {
		return dec.Err()
	}
	var unknown string
	ok := dec.ExpectList(func() bool {
		var item string
		if !dec.ExpectAtom(&item) {
			return false
		}
		item = strings.ToUpper(item)
		if (!isStatusItem(item) || item == "APPENDLIMIT" && c.srv.opts.AppendLimit <= 0) && unknown == "" {
			unknown = item
		}
		want[item] = true
		return true
	})
	if !ok || !cmd.end() {
		return dec.Err()
	}
	switch {
	case unknown != "":
		return bad("", "Error in IMAP command STATUS: Invalid status item "+unknown)
	case len(want) == 0:
		return bad("", "Error in IMAP command STATUS: Empty status list")
	}
	st, err := c.user.Status(ctx, name)
	if err != nil {
		return c.lookupError("status "+name, err)
	}
	if c.sel != nil && c.sel.name == name {
		// \Recent is per session: this session's view has claimed it.
		st.Recent = c.sel.mb.Status().Recent
	}
	vals := map[string]uint64{"MESSAGES": uint64(st.Messages), "RECENT": uint64(st.Recent),
		"UIDNEXT": uint64(st.UIDNext), "UIDVALIDITY": uint64(st.UIDValidity),
		"UNSEEN": uint64(st.Unseen), "SIZE": uint64(st.Size), "HIGHESTMODSEQ": st.HighestModSeq}
	if want["HIGHESTMODSEQ"] {
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
	enc.Special(')').CRLF()
	if c.sel != nil && c.sel.name == name {
		// RFC 3501 section 6.3.10 advises against it; Dovecot answers
		// and flags it.
		cmd.okCode, cmd.okText = "CLIENTBUG", "Status on selected mailbox completed."
	}
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
