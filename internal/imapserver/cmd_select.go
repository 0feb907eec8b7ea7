package imapserver

import (
	"context"
	"strconv"

	"roost/internal/imap"
	"roost/internal/storage"
)

// cmdSelect is SELECT and EXAMINE (RFC 3501 sections 6.3.1 and 6.3.2).
// A previously selected mailbox is closed without expunging, even when
// the new selection fails.
func cmdSelect(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) {
		return dec.Err()
	}
	condstore, qr, perr := c.parseSelectParams(cmd)
	if c.sel != nil {
		// Dovecot closes the previous mailbox even when the parameters
		// are bad.
		c.unselect()
		c.untaggedStatus(typeOK, "CLOSED", "Previous mailbox closed.")
	}
	if perr != nil {
		return perr
	}
	readOnly := cmd.name == "EXAMINE"
	mb, err := c.user.Open(ctx, name, storage.OpenOptions{ReadOnly: readOnly})
	if err != nil {
		return c.lookupError("select "+name, err)
	}
	if condstore {
		c.enableCondstore() // nothing selected yet: no untagged HIGHESTMODSEQ
	}
	c.sel = &selected{mb: mb, name: name, readOnly: readOnly || mb.ReadOnly()}
	c.state = stateSelected
	if c.condstore() {
		c.enableModSeqs()
	}
	c.sel.lastFullModSeq = c.writeSelectResponses()
	if qr != nil {
		if err := c.writeQresync(ctx, qr); err != nil {
			return err
		}
	}
	cmd.okCode, cmd.okText = "READ-WRITE", "Select completed."
	if c.sel.readOnly {
		cmd.okCode = "READ-ONLY"
	}
	if readOnly {
		cmd.okText = "Examine completed."
	}
	return nil
}

// writeSelectResponses writes the untagged data of SELECT in Dovecot's
// order and returns the HIGHESTMODSEQ. It reads the view's status only:
// a large mailbox's message list is not built.
func (c *conn) writeSelectResponses() uint64 {
	st := c.sel.mb.Status()
	flags := append(append([]string(nil), imap.SystemFlags...), st.Keywords...)
	c.untagged().Atom("FLAGS").SP().Flags(flags).CRLF()
	if c.sel.readOnly {
		c.untaggedStatusFlags("PERMANENTFLAGS", nil, "Read-only mailbox.")
	} else {
		c.untaggedStatusFlags("PERMANENTFLAGS", append(flags, imap.FlagWildcard), "Flags permitted.")
	}
	c.untagged().Number(uint32(st.Messages)).SP().Atom("EXISTS").CRLF()
	c.sel.recent = st.Recent
	if !c.rev2() { // RFC 9051 section 6.3.2: no RECENT, no UNSEEN
		c.untagged().Number(uint32(c.sel.recent)).SP().Atom("RECENT").CRLF()
	}
	if seq := st.FirstUnseen; seq != 0 && !c.rev2() {
		c.untaggedStatus(typeOK, "UNSEEN "+strconv.Itoa(seq), "First unseen.")
	}
	c.untaggedStatus(typeOK, "UIDVALIDITY "+strconv.FormatUint(uint64(st.UIDValidity), 10), "UIDs valid")
	c.untaggedStatus(typeOK, "UIDNEXT "+strconv.FormatUint(uint64(st.UIDNext), 10), "Predicted next UID")
	if c.modseqsShown() {
		c.untaggedStatus(typeOK, "HIGHESTMODSEQ "+strconv.FormatUint(st.HighestModSeq, 10), "Highest")
	}
	c.writeSelectList()
	return st.HighestModSeq
}

// untaggedStatusFlags writes "* OK [CODE (flags)] text".
func (c *conn) untaggedStatusFlags(code string, flags []string, text string) {
	c.untagged().Atom(typeOK).SP().Special('[').Atom(code).SP().Flags(flags).Special(']').SP().Text(text).CRLF()
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// unselect closes the selected mailbox, if any, without expunging.
func (c *conn) unselect() {
	if c.sel != nil {
		if err := c.sel.mb.Close(); err != nil {
			c.log.Errorf("close %s: %v", c.sel.name, err)
		}
		c.sel = nil
	}
	if c.state == stateSelected {
		c.state = stateAuth
	}
}

// cmdClose is CLOSE (RFC 3501 section 6.4.2): expunge \Deleted messages
// silently (unless read-only), then leave the selected state.
func cmdClose(ctx context.Context, c *conn, cmd *command) error {
	if !cmd.end() {
		return cmd.dec.Err()
	}
	var err error
	if !c.sel.readOnly {
		err = c.sel.mb.Expunge(ctx, nil)
	}
	c.unselect()
	if err != nil {
		return c.storageError("close", err)
	}
	return nil
}

// cmdUnselect is UNSELECT (RFC 3691): leave the selected state without
// expunging.
func cmdUnselect(ctx context.Context, c *conn, cmd *command) error {
	if !cmd.end() {
		return cmd.dec.Err()
	}
	c.unselect()
	return nil
}
