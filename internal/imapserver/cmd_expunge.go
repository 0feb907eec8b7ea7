package imapserver

import (
	"context"

	"roost/internal/imap"
	"roost/internal/storage"
)

// cmdExpunge is EXPUNGE (RFC 3501 section 6.4.3) and UID EXPUNGE (RFC
// 4315 section 2.1: only messages in the set that have \Deleted). The
// closing sync announces the "* n EXPUNGE" lines, highest first as
// Dovecot does.
func cmdExpunge(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	var set imap.SeqSet
	var saved bool
	if cmd.uid && (!d.ExpectSP() || !c.readSet(d, &set, &saved)) {
		return d.Err()
	}
	if !cmd.end() {
		return d.Err()
	}
	if c.sel.readOnly {
		cmd.okText = "Expunge ignored: Mailbox is read-only."
		return nil
	}
	var uids []uint32
	if cmd.uid {
		all, err := c.sel.resolve(set, true)
		if err != nil {
			return err
		}
		msgs := c.sel.messages()
		for _, uid := range all {
			if seq := c.sel.seqOf(uid); seq != 0 && msgHasFlag(msgs[seq-1].Flags, storage.FlagDeleted) {
				uids = append(uids, uid)
			}
		}
		if len(uids) == 0 {
			return nil
		}
	}
	if err := c.sel.mb.Expunge(ctx, uids); err != nil {
		if storage.KindOf(err) == storage.KindPerm {
			cmd.okText = "Expunge ignored: " + storage.ClientText(err) + "."
			return nil
		}
		return err
	}
	return nil
}
