package imapserver

import (
	"context"
)

// cmdReplace is REPLACE and UID REPLACE (RFC 8508): the new message is
// saved into the named mailbox like an APPEND (literal, literal8 or
// CATENATE), announced with an untagged OK [APPENDUID], and only then is
// the old message expunged; the closing sync announces the EXPUNGE (or
// VANISHED) and, when the target is the selected mailbox, the EXISTS.
func cmdReplace(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var num uint32
	var name string
	if !dec.ExpectSP() || !dec.ExpectNZNumber(&num) || !dec.ExpectSP() || !dec.ExpectMailbox(&name) || !dec.ExpectSP() {
		return dec.Err()
	}
	old, err := c.replaceTarget(num, cmd.uid)
	if err != nil {
		return err
	}
	if c.sel.readOnly {
		return no("", "Mailbox is read-only.")
	}
	ap := &appender{c: c, name: name}
	defer ap.rollback(ctx)
	if err := ap.message(ctx, dec); err != nil {
		return err
	}
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	res, err := ap.commit(ctx)
	if err != nil {
		return err
	}
	c.untaggedStatus(typeOK, appendUIDCode(res), "Replacement Message ready")
	if err := c.sel.mb.Expunge(ctx, []uint32{old}); err != nil {
		return c.storageError("replace", err)
	}
	c.stats.expunged++
	c.appendEvent(ctx, name, res) // imapsieve: the new message was APPENDed
	return nil
}

// replaceTarget resolves REPLACE's message number: a sequence number
// beyond the mailbox is a BAD, a missing UID a NO (RFC 8508 section 3.3).
func (c *conn) replaceTarget(num uint32, uid bool) (uint32, error) {
	if !uid {
		msgs := c.sel.messages()
		if int(num) > len(msgs) {
			return 0, bad("", "Error in IMAP command REPLACE: Invalid messageset")
		}
		return msgs[num-1].UID, nil
	}
	if c.sel.seqOf(num) == 0 {
		return 0, no("", "Message not found.")
	}
	return num, nil
}
