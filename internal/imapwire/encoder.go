package imapwire

import (
	"bufio"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"roost/internal/imap"
)

// Encoder writes IMAP responses. Methods chain and errors are sticky;
// output is buffered until Flush, which the server calls once per
// response (after the tagged line, before a continuation request, after
// each IDLE batch). Data that came from a client or a message always
// goes through String, AString, NString or Literal, never Raw.
type Encoder struct {
	w   *bufio.Writer
	err error
	// next, if set, is flushed after w (a compressing layer under w).
	next interface{ Flush() error }
	// utf8: mailbox names are sent as UTF-8 and quoted strings may hold
	// UTF-8 (RFC 9051 section 5.1, RFC 6855 section 3).
	utf8 bool
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w *bufio.Writer) *Encoder { return &Encoder{w: w} }

// Err returns the first write error.
func (e *Encoder) Err() error { return e.err }

// SetFlusher makes Flush also flush next after the encoder's buffer: a
// layer between the buffer and the connection that holds data of its own,
// such as COMPRESS=DEFLATE's compressor (RFC 4978 section 3).
func (e *Encoder) SetFlusher(next interface{ Flush() error }) { e.next = next }

// SetUTF8 switches mailbox names from modified UTF-7 to UTF-8 and lets
// quoted strings carry valid UTF-8, for a client that enabled IMAP4rev2
// or UTF8=ACCEPT (RFC 9051 section 5.1, RFC 6855 section 3).
func (e *Encoder) SetUTF8(on bool) { e.utf8 = on }

// Flush writes buffered output to the connection.
func (e *Encoder) Flush() error {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err == nil && e.next != nil {
		e.err = e.next.Flush()
	}
	return e.err
}

func (e *Encoder) write(s string) *Encoder {
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
	}
	return e
}

func (e *Encoder) writeByte(b byte) *Encoder {
	if e.err == nil {
		e.err = e.w.WriteByte(b)
	}
	return e
}

// Star starts an untagged response: "* ".
func (e *Encoder) Star() *Encoder { return e.write("* ") }

// Tag starts a tagged response: tag and a space. Tags were validated by
// the decoder (ASTRING-CHARs without '+').
func (e *Encoder) Tag(tag string) *Encoder { return e.write(tag).writeByte(' ') }

// Plus starts a continuation request: "+ ".
func (e *Encoder) Plus() *Encoder { return e.write("+ ") }

// SP writes a space.
func (e *Encoder) SP() *Encoder { return e.writeByte(' ') }

// Special writes one delimiter byte such as '(' or '['.
func (e *Encoder) Special(b byte) *Encoder { return e.writeByte(b) }

// CRLF ends a line.
func (e *Encoder) CRLF() *Encoder { return e.write("\r\n") }

// Atom writes a server-chosen atom (a keyword, status, capability, flag
// or section name). A string that is not a valid atom is written as a
// string, so that a mistake can never break the framing.
func (e *Encoder) Atom(s string) *Encoder {
	if isRawAtom(s) {
		return e.write(s)
	}
	return e.String(s)
}

// isRawAtom accepts atoms, a flag's leading backslash, ']' and `\*`.
func isRawAtom(s string) bool {
	if s == "" {
		return false
	}
	if s == `\*` {
		return true // PERMANENTFLAGS wildcard
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if imap.IsAtomChar(c) || c == ']' || (c == '\\' && i == 0) {
			continue
		}
		return false
	}
	return true
}

// Number writes a 32-bit number.
func (e *Encoder) Number(n uint32) *Encoder { return e.write(strconv.FormatUint(uint64(n), 10)) }

// Number64 writes a 64-bit number.
func (e *Encoder) Number64(n uint64) *Encoder { return e.write(strconv.FormatUint(n, 10)) }

// NIL writes NIL.
func (e *Encoder) NIL() *Encoder { return e.write("NIL") }

// quotable reports whether s can be sent as a quoted string: 7-bit, or
// valid UTF-8 when utf8 is set (RFC 9051 QUOTED-CHAR, RFC 6855 section 3).
func quotable(s string, utf8ok bool) bool {
	if len(s) > 1024 {
		return false
	}
	eight := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0 || c == '\r' || c == '\n':
			return false
		case c >= 0x80:
			eight = true
		}
	}
	return !eight || (utf8ok && utf8.ValidString(s))
}

// Quoted writes s as a quoted string; s must be quotable (else Literal).
func (e *Encoder) quoted(s string) *Encoder {
	e.writeByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			e.writeByte('\\')
		}
		e.writeByte(s[i])
	}
	return e.writeByte('"')
}

// String writes s as a quoted string, or as a literal when it holds CR,
// LF, NUL or 8-bit bytes.
func (e *Encoder) String(s string) *Encoder {
	if quotable(s, e.utf8) {
		return e.quoted(s)
	}
	return e.LiteralString(s)
}

// AString writes s as an atom when it is one (and not NIL), else as a
// string.
func (e *Encoder) AString(s string) *Encoder {
	if s != "" && !equalFoldASCII(s, "NIL") && isAStringAtom(s) {
		return e.write(s)
	}
	return e.String(s)
}

func isAStringAtom(s string) bool {
	for i := 0; i < len(s); i++ {
		if !imap.IsAtomChar(s[i]) && s[i] != ']' {
			return false
		}
	}
	return true
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i]|0x20 != b[i]|0x20 {
			return false
		}
	}
	return true
}

// NString writes s as a string, or NIL when ok is false.
func (e *Encoder) NString(s string, ok bool) *Encoder {
	if !ok {
		return e.NIL()
	}
	return e.String(s)
}

// Mailbox writes a UTF-8 mailbox name in modified UTF-7 as an astring
// (an atom when it is one, as Dovecot writes it); after SetUTF8 the name
// is written as it is.
func (e *Encoder) Mailbox(name string) *Encoder {
	if e.utf8 {
		return e.AString(name)
	}
	return e.AString(imap.EncodeMailbox(name))
}

// LiteralString writes s as a literal.
func (e *Encoder) LiteralString(s string) *Encoder {
	e.write("{").write(strconv.Itoa(len(s))).write("}\r\n")
	return e.write(s)
}

// Literal writes b as a literal.
func (e *Encoder) Literal(b []byte) *Encoder {
	e.write("{").write(strconv.Itoa(len(b))).write("}\r\n")
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
	return e
}

// LiteralFrom writes a literal of size bytes copied from r; a short
// source is an error (the framing would be broken, so the connection
// must be closed).
func (e *Encoder) LiteralFrom(r io.Reader, size int64) *Encoder {
	e.write("{").write(strconv.FormatInt(size, 10)).write("}\r\n")
	if e.err == nil {
		var n int64
		n, e.err = io.CopyN(e.w, r, size)
		if e.err == io.EOF && n < size {
			e.err = io.ErrUnexpectedEOF
		}
	}
	return e
}

// Raw writes pre-encoded bytes (for example a cached ENVELOPE) unchanged.
func (e *Encoder) Raw(b []byte) *Encoder {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
	return e
}

// Flags writes a parenthesised flag list. Flags are validated atoms
// (system flags with their backslash).
func (e *Encoder) Flags(flags []string) *Encoder {
	e.writeByte('(')
	for i, f := range flags {
		if i > 0 {
			e.writeByte(' ')
		}
		e.Atom(f)
	}
	return e.writeByte(')')
}

// List writes a parenthesised list of n elements, elem(i) writing each.
func (e *Encoder) List(n int, elem func(i int)) *Encoder {
	e.writeByte('(')
	for i := 0; i < n; i++ {
		if i > 0 {
			e.writeByte(' ')
		}
		elem(i)
	}
	return e.writeByte(')')
}

// Text writes human-readable response text (resp-text): CR, LF and NUL
// are replaced by spaces so the text cannot end the line.
func (e *Encoder) Text(s string) *Encoder {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' || c == 0 {
			c = ' '
		}
		e.writeByte(c)
	}
	return e
}

// DateTime writes a quoted date-time: "02-Jan-2006 15:04:05 -0700".
func (e *Encoder) DateTime(t time.Time) *Encoder {
	return e.writeByte('"').write(t.Format("02-Jan-2006 15:04:05 -0700")).writeByte('"')
}
