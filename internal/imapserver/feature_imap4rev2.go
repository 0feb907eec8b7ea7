package imapserver

import (
	"context"
	"strings"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// IMAP4rev2 (RFC 9051) beside IMAP4rev1: both are advertised, and a
// client that sends ENABLE IMAP4rev2 gets the rev2 behaviour for the rest
// of the session (RFC 9051 section 6.3.1). Everything here is behind
// c.rev2(), so IMAP4rev1 sessions are unchanged. The changes from RFC
// 3501 that alter the server's answers (RFC 9051 appendix E):
//
//   - no \Recent flag in FETCH or flag announcements and no "* n
//     RECENT"; the session's view still claims \Recent as every
//     session's does, so IMAP4rev1 sessions count it as before;
//   - SELECT/EXAMINE send "* LIST () sep name" and no [UNSEEN n] (RFC
//     9051 section 6.3.2);
//   - SEARCH and UID SEARCH always answer with ESEARCH (section 6.4.4);
//   - STATUS knows DELETED (section 6.3.11);
//   - LIST marks mailboxes that only exist as parents \NonExistent
//     (section 7.3.1), as LIST-EXTENDED does;
//   - mailbox names are UTF-8 on the wire and quoted strings may hold
//     UTF-8 (section 5.1; shared with UTF8=ACCEPT, feature_utf8.go).
//
// Everything else in appendix E (NAMESPACE, UNSELECT, MOVE, UIDPLUS,
// ESEARCH, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, BINARY, LITERAL-, ID,
// IDLE, SASL-IR, ENABLE, STATUS SIZE) is already on for every client.
// What RFC 9051 removed is still accepted from an IMAP4rev2 client: LSUB,
// CHECK, SEARCH NEW/OLD/RECENT and STATUS RECENT.

// extIMAP4rev2 is the ENABLE name (upper case, as c.enabled keys are).
const extIMAP4rev2 = "IMAP4REV2"

// rev2 reports whether the client enabled IMAP4rev2.
func (c *conn) rev2() bool { return c.enabled[extIMAP4rev2] }

// enabledName is an extension's name in "* ENABLED", as the RFC spells it.
func enabledName(upper string) string {
	if upper == extIMAP4rev2 {
		return "IMAP4rev2"
	}
	return upper
}

// shown returns m as the client sees it: RFC 9051 has no \Recent flag.
func (c *conn) shown(m storage.Message) storage.Message {
	if c.rev2() {
		m.Recent = false
	}
	return m
}

// writeSelectList writes the LIST response RFC 9051 section 6.3.2
// requires in a SELECT/EXAMINE reply: "* LIST () sep name", with the
// name as sent in OLDNAME when it was normalised to NFC (as CREATE
// announces it, section 6.3.4).
func (c *conn) writeSelectList() {
	if !c.rev2() {
		return
	}
	enc := c.untagged().Atom("LIST").SP().Flags(nil).SP()
	writeSeparator(enc, c.nsFor(c.sel.name).Separator)
	enc.SP().Mailbox(c.sel.name)
	if sent := c.dec.SentMailbox(); sent != c.sel.name && !strings.EqualFold(sent, "INBOX") {
		enc.SP().Special('(').String("OLDNAME").SP().Special('(').Mailbox(sent).Special(')').Special(')')
	}
	enc.CRLF()
}

// searchAnswer reports whether SEARCH answers with ESEARCH and with
// which options: RETURN (...) as sent, or ALL for an IMAP4rev2 client
// that sent none (RFC 9051 section 6.4.4).
func (c *conn) searchAnswer(returned bool, ret *imap.SearchReturn) bool {
	if returned {
		return true
	}
	if !c.rev2() {
		return false
	}
	ret.All = true
	return true
}

// statusDeleted counts a mailbox's \Deleted messages for STATUS DELETED
// (RFC 9051 section 6.3.11); only IMAP4rev2 clients may ask for it.
func (c *conn) statusDeleted(ctx context.Context, name string, want map[string]bool) (uint64, error) {
	if !want["DELETED"] {
		return 0, nil
	}
	if c.sel != nil && c.sel.name == name {
		return countDeleted(c.sel.mb.Messages()), nil
	}
	mb, err := c.user.Open(ctx, name, storage.OpenOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer mb.Close()
	return countDeleted(mb.Messages()), nil
}

func countDeleted(msgs []storage.Message) uint64 {
	var n uint64
	for _, m := range msgs {
		if hasFlag(m.Flags, storage.FlagDeleted) {
			n++
		}
	}
	return n
}

// statusItemAllowed accepts DELETED from an IMAP4rev2 client.
func (c *conn) statusItemAllowed(item string) bool {
	return item == "DELETED" && c.rev2()
}

// writeStatusDeleted appends "DELETED n" to a STATUS item list.
func writeStatusDeleted(enc *imapwire.Encoder, want map[string]bool, first bool, n uint64) {
	if !want["DELETED"] {
		return
	}
	if !first {
		enc.SP()
	}
	enc.Atom("DELETED").SP().Number64(n)
}
