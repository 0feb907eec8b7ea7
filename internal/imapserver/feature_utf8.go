package imapserver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"slices"
	"strings"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// UTF8=ACCEPT (RFC 6855, updated by RFC 9755) for IMAP4rev1 clients;
// IMAP4rev2 includes it (RFC 9051 section 5.1). After ENABLE UTF8=ACCEPT
// (or IMAP4rev2):
//
//   - mailbox names are UTF-8 in commands and responses, never modified
//     UTF-7 ('&' is an ordinary character); a name that is not valid
//     UTF-8 is refused with NO (RFC 6855 section 3);
//   - quoted strings in responses may hold UTF-8;
//   - APPEND takes the message as UTF8 (literal8) (RFC 6855 section 4;
//     a plain literal inside the parentheses is accepted too), and a
//     plain literal whose data is wrapped in "UTF8 (...)", as Python's
//     imaplib sends it, is unwrapped (unwrapUTF8Literal);
//   - SEARCH with a CHARSET, and SORT or THREAD with a charset, other
//     than UTF-8 or US-ASCII is BAD (RFC 6855 section 3, erratum 4029);
//   - names must be Net-Unicode (no control characters, U+2028, U+2029)
//     and are normalised to NFC; CREATE and RENAME (and SELECT under
//     IMAP4rev2) announce a normalised name with LIST ... ("OLDNAME"
//     (sent)) (RFC 9051 sections 5.1 and 6.3.4); a stored name that is
//     not NFC Net-Unicode cannot be named back and is listed \Noselect.
//
// Dovecot 2.3 implements neither, so the RFCs are the oracle here.

// extUTF8Accept is the ENABLE name.
const extUTF8Accept = "UTF8=ACCEPT"

// utf8Accept reports whether mailbox names and strings are UTF-8 on the
// wire: UTF8=ACCEPT or IMAP4rev2 is enabled.
func (c *conn) utf8Accept() bool { return c.enabled[extUTF8Accept] || c.rev2() }

// applyUTF8 sets the wire encoder and decoder to the session's mode; it
// runs after ENABLE and whenever the I/O is rebuilt (COMPRESS).
func (c *conn) applyUTF8() {
	on := c.utf8Accept()
	c.enc.SetUTF8(on)
	c.dec.SetUTF8(on)
}

// wireName is a mailbox name (or namespace prefix) as the client reads
// it inside a string: UTF-8 after UTF8=ACCEPT or IMAP4rev2, else mUTF-7.
func (c *conn) wireName(name string) string {
	if c.utf8Accept() {
		return name
	}
	return imap.EncodeMailbox(name)
}

// utf8ListAttrs marks \Noselect a mailbox a UTF-8 client could not
// name back: one created through modified UTF-7 (or outside IMAP) whose
// name is not Net-Unicode in NFC, which ExpectMailbox would normalise or
// refuse (RFC 6855 section 3, RFC 9051 section 5.1). IMAP4rev1 sessions
// still reach it by its modified UTF-7 name.
func (c *conn) utf8ListAttrs(name string, attrs []string) []string {
	if !c.utf8Accept() || imapwire.NetUnicodeName(name) ||
		slices.Contains(attrs, storage.AttrNoSelect) || slices.Contains(attrs, storage.AttrNonExistent) {
		return attrs
	}
	return append([]string{storage.AttrNoSelect}, attrs...)
}

// badNameText is the NO text for a mailbox name that does not decode.
func (c *conn) badNameText() string {
	if c.utf8Accept() {
		return "Mailbox name is not valid UTF-8"
	}
	return "Mailbox name is not valid mUTF-7"
}

// utf8Append reads APPEND's `"UTF8" SP "(" literal8 ")"` (RFC 6855
// section 4) after the UTF8 keyword. The message is stored as sent: a
// literal8 here carries 8-bit headers, not BINARY content.
func (ap *appender) utf8Append(ctx context.Context, dec *imapwire.Decoder, msg storage.AppendMessage) error {
	var lit imapwire.LiteralInfo
	if !dec.ExpectSP() || !dec.ExpectSpecial('(') {
		return dec.Err()
	}
	if !dec.Literal8Header(&lit) {
		if dec.Err() != nil {
			return dec.Err()
		}
		return bad("", "Error in IMAP command APPEND: Invalid arguments.")
	}
	lit.Binary = false
	if err := ap.literal(ctx, dec, lit, msg); err != nil {
		return err
	}
	if !dec.ExpectSpecial(')') {
		return dec.Err()
	}
	return nil
}

// utf8Wrapper is how Python's imaplib (3.11 and later, after
// enable("UTF8=ACCEPT")) sends APPEND: the "UTF8 (" and ")" of RFC 6855
// section 4 inside a plain literal instead of around it.
const utf8Wrapper = "UTF8 ("

// unwrapUTF8Literal returns a plain APPEND literal's message, without
// imaplib's misplaced UTF8 ( ... ) wrapper when the data has it. A
// message cannot start with "UTF8 (" (no header field name has a space),
// so nothing else is changed; only the wrapped form is read into memory.
func unwrapUTF8Literal(body io.Reader, size int64) (io.Reader, int64, error) {
	br := bufio.NewReaderSize(body, 64)
	if head, _ := br.Peek(len(utf8Wrapper)); string(head) != utf8Wrapper || size < int64(len(utf8Wrapper))+1 {
		return br, size, nil
	}
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, 0, err
	}
	if data[len(data)-1] != ')' {
		return bytes.NewReader(data), size, nil
	}
	data = data[len(utf8Wrapper) : len(data)-1]
	return bytes.NewReader(data), int64(len(data)), nil
}

// writeNormalisedName announces a name CREATE (or RENAME, as its new
// name) normalised to NFC: "* LIST () sep name ("OLDNAME" ("sent"))"
// (RFC 9051 section 6.3.4). Only UTF-8 names are normalised
// (imapwire.Decoder.SetUTF8).
func (c *conn) writeNormalisedName(sent, name string) {
	sep := c.nsFor(name).Separator
	if !c.utf8Accept() || sep != "" && strings.TrimSuffix(sent, sep) == name || sent == name {
		return
	}
	enc := c.untagged().Atom("LIST").SP().Flags(nil).SP()
	writeSeparator(enc, sep)
	enc.SP().Mailbox(name).SP().Special('(').String("OLDNAME").SP().Special('(').Mailbox(sent).Special(')').Special(')').CRLF()
}

// isUTF8Keyword reports whether an APPEND data keyword is UTF8 and the
// client may use it.
func (c *conn) isUTF8Keyword(kw string) bool {
	return c.enabled[extUTF8Accept] && strings.EqualFold(kw, "UTF8")
}

// checkSearchCharset refuses a SEARCH charset other than UTF-8 once
// UTF8=ACCEPT is on (RFC 6855 section 3, erratum 4029: "BAD").
func checkSearchCharset(utf8Only bool, cmdName, cs string) error {
	if !utf8Only {
		return nil
	}
	switch strings.ToUpper(cs) {
	case "UTF-8", "US-ASCII", "UTF8":
		return nil
	}
	return bad("", "Error in IMAP command "+cmdName+": CHARSET must be UTF-8 after ENABLE UTF8=ACCEPT")
}
