package imapserver

import (
	"context"
	"slices"
	"strings"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// storeArgs is a parsed STORE command.
type storeArgs struct {
	set            imap.SeqSet
	saved          bool // set is SEARCHRES's $ (UIDs)
	op             storage.FlagOp
	silent         bool
	flags          []string
	unchangedSince uint64
	conditional    bool // UNCHANGEDSINCE given (RFC 7162)
}

// cmdStore is STORE and UID STORE (RFC 3501 section 6.4.6, RFC 7162
// UNCHANGEDSINCE). As Dovecot: a read-only mailbox ignores the STORE
// with OK, only messages whose flags changed get a FETCH, UID STORE's
// FETCH carries the UID first, and new keywords are announced with FLAGS
// and PERMANENTFLAGS before the FETCH responses.
func cmdStore(ctx context.Context, c *conn, cmd *command) error {
	a, err := parseStore(c, cmd.dec)
	if err != nil {
		return err
	}
	uids, err := c.sel.resolve(a.set, cmd.uid || a.saved)
	if err != nil {
		return err
	}
	if c.sel.readOnly {
		if a.conditional {
			return no("", "CONDSTORE failed: Mailbox is read-only.")
		}
		cmd.okText = "Store ignored with read-only mailbox."
		return nil
	}
	if a.conditional {
		c.enableCondstore() // RFC 7162 section 3.1: implicit enable
	}
	before := c.sel.mb.Status().Keywords
	oldFlags := c.storeOldFlags(uids) // imapsieve
	res, err := c.storeFlags(ctx, uids, a)
	if err != nil {
		return err
	}
	c.storeEvent(ctx, oldFlags, res)
	if after := c.sel.mb.Status().Keywords; !slices.Equal(before, after) {
		c.writeMailboxFlags(after)
	}
	// RFC 7162 section 3.1.3: with CONDSTORE, .SILENT still reports
	// the new MODSEQ.
	if !a.silent || c.condstore() {
		keywords := c.sel.mb.Status().Keywords
		for _, m := range res.Updated {
			if seq := c.sel.seqOf(m.UID); seq != 0 {
				c.writeStoreFetch(seq, m, cmd.uid, !a.silent, keywords)
			}
		}
	}
	if len(res.Modified) > 0 {
		cmd.okCode = "MODIFIED " + c.modifiedSet(res.Modified, cmd.uid)
		cmd.okText = "Conditional store failed."
	}
	return nil
}

// storeFlags runs the Store; UNCHANGEDSINCE 0 fails every message.
func (c *conn) storeFlags(ctx context.Context, uids []uint32, a *storeArgs) (storage.StoreResult, error) {
	if a.conditional && a.unchangedSince == 0 {
		return storage.StoreResult{Modified: uids}, nil
	}
	return c.sel.mb.Store(ctx, uids, a.op, a.flags, storage.StoreOptions{UnchangedSince: a.unchangedSince})
}

func (c *conn) modifiedSet(uids []uint32, uid bool) string {
	if uid {
		return imap.SetFromNums(uids).String()
	}
	seqs := make([]uint32, 0, len(uids))
	for _, u := range uids {
		if s := c.sel.seqOf(u); s != 0 {
			seqs = append(seqs, s)
		}
	}
	return imap.SetFromNums(seqs).String()
}

// parseStore reads SP set SP [(modifiers) SP] item SP flags CRLF.
func parseStore(c *conn, d *imapwire.Decoder) (*storeArgs, error) {
	a := &storeArgs{}
	if !d.ExpectSP() || !c.readSet(d, &a.set, &a.saved) || !d.ExpectSP() {
		return nil, d.Err()
	}
	if d.List(func() bool {
		var name string
		if !d.ExpectAtom(&name) || !equalFold(name, "UNCHANGEDSINCE") {
			return false
		}
		a.conditional = true
		return d.ExpectSP() && d.ExpectNumber64(&a.unchangedSince)
	}) {
		if !d.ExpectSP() {
			return nil, d.Err()
		}
	} else if d.Err() != nil {
		return nil, &imapwire.SyntaxError{Msg: "Invalid STORE modifiers."}
	}
	var item string
	if !d.ExpectAtom(&item) {
		return nil, d.Err()
	}
	if !parseStoreItem(a, item) {
		return nil, &imapwire.SyntaxError{Msg: "Invalid arguments."}
	}
	if !d.ExpectSP() {
		return nil, d.Err()
	}
	flags, err := parseStoreFlags(d)
	if err != nil {
		return nil, err
	}
	a.flags = flags
	if !d.ExpectCRLF() {
		return nil, d.Err()
	}
	return a, nil
}

// parseStoreItem parses [+|-]FLAGS[.SILENT].
func parseStoreItem(a *storeArgs, item string) bool {
	switch {
	case strings.HasPrefix(item, "+"):
		a.op, item = storage.FlagsAdd, item[1:]
	case strings.HasPrefix(item, "-"):
		a.op, item = storage.FlagsRemove, item[1:]
	default:
		a.op = storage.FlagsSet
	}
	switch strings.ToUpper(item) {
	case "FLAGS":
		return true
	case "FLAGS.SILENT":
		a.silent = true
		return true
	}
	return false
}

// parseStoreFlags reads a parenthesised flag list or, as Dovecot allows,
// space-separated flags. \Recent and unknown system flags are refused.
func parseStoreFlags(d *imapwire.Decoder) ([]string, error) {
	var raw []string
	read := func() bool {
		var f string
		if !d.ExpectFlag(&f) {
			return false
		}
		raw = append(raw, f)
		return true
	}
	if !d.List(read) {
		if d.Err() != nil {
			return nil, d.Err()
		}
		for read() && d.SP() {
		}
		if d.Err() != nil {
			return nil, d.Err()
		}
	}
	flags := make([]string, 0, len(raw))
	for _, f := range raw {
		canon, ok := imap.CanonicalFlag(f)
		if !ok || canon == imap.FlagRecent || canon == imap.FlagWildcard {
			return nil, &imapwire.SyntaxError{Msg: "Invalid system flag " + strings.ToUpper(f)}
		}
		flags = append(flags, canon)
	}
	return flags, nil
}

// writeStoreFetch writes "* seq FETCH ([UID n ][MODSEQ (m)][ FLAGS
// (...)])" in the order of Dovecot's imap_sync_send_flags: UID for UID
// STORE and under QRESYNC, MODSEQ under CONDSTORE, FLAGS unless .SILENT.
func (c *conn) writeStoreFetch(seq uint32, m storage.Message, withUID, withFlags bool, keywords []string) {
	enc := c.untagged().Number(seq).SP().Atom("FETCH").SP().Special('(')
	if withUID || c.qresync() {
		enc.Atom("UID").SP().Number(m.UID)
		if c.condstore() || withFlags {
			enc.SP()
		}
	}
	if c.condstore() {
		enc.Atom("MODSEQ").SP().Special('(').Number64(m.ModSeq).Special(')')
		c.noteModSeq(m.ModSeq)
		if withFlags {
			enc.SP()
		}
	}
	if withFlags {
		enc.Atom("FLAGS").SP().Raw(appendFlags(nil, flagList(c.shown(m), keywords)))
	}
	enc.Special(')').CRLF()
}

// writeMailboxFlags announces a changed keyword set (Dovecot's
// client_send_mailbox_flags): FLAGS, then PERMANENTFLAGS.
func (c *conn) writeMailboxFlags(keywords []string) {
	flags := append(slices.Clone(imap.SystemFlags), keywords...)
	c.untagged().Atom("FLAGS").SP().Raw(appendFlags(nil, flags)).CRLF()
	c.untagged().Atom("OK").SP().Special('[').Atom("PERMANENTFLAGS").SP().
		Raw(appendFlags(nil, append(flags, imap.FlagWildcard))).Special(']').SP().Text("Flags permitted.").CRLF()
}
