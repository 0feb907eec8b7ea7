package imapserver

import (
	"context"
	"strconv"

	"roost/internal/imap"
)

// cmdCopy is COPY and UID COPY (RFC 3501 section 6.4.7, RFC 4315
// COPYUID) and MOVE and UID MOVE (RFC 6851): MOVE sends its COPYUID in an
// untagged OK; the closing sync then sends the EXPUNGEs before the tagged
// OK.
func cmdCopy(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	var set imap.SeqSet
	var dest string
	var saved bool
	if !d.ExpectSP() || !c.readSet(d, &set, &saved) || !d.ExpectSP() || !d.ExpectMailbox(&dest) || !d.ExpectCRLF() {
		return d.Err()
	}
	move := cmd.name == "MOVE"
	uids, err := c.sel.resolve(set, cmd.uid || saved)
	if err != nil {
		return err
	}
	if move && c.sel.readOnly {
		return no("", "Mailbox is read-only.")
	}
	c.condstoreOpens(ctx, dest)
	res, err := c.sel.mb.Copy(ctx, uids, dest, move)
	if err != nil {
		return c.destError(cmd.fullName(), err)
	}
	if len(res.SrcUIDs) == 0 {
		cmd.okText = "No messages found."
		return nil
	}
	c.mailEvent(ctx, MailEvent{Cause: "COPY", Mailbox: dest, From: c.sel.mb.Name(), UIDs: res.DstUIDs}) // imapsieve
	code := "COPYUID " + strconv.FormatUint(uint64(res.UIDValidity), 10) + " " +
		imap.FormatNums(res.SrcUIDs) + " " + imap.FormatNums(res.DstUIDs)
	if move {
		c.untaggedStatus(typeOK, code, "Moved UIDs.")
		return nil
	}
	cmd.okCode = code
	return nil
}
