package imapwire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"roost/internal/imap"
)

// Limits with Dovecot's defaults.
const (
	// DefaultMaxLineLength is imap_max_line_length: the most bytes a
	// command may have outside literal data.
	DefaultMaxLineLength = 64 * 1024
	// DefaultMaxLiteralSize bounds a literal read into memory (any
	// argument except APPEND's message, which is streamed).
	DefaultMaxLiteralSize = 64 * 1024
	// LiteralMinusMax is the largest non-synchronising literal allowed
	// under LITERAL- (RFC 7888 section 4).
	LiteralMinusMax = 4096
	// maxListDepth bounds nested parenthesised lists.
	maxListDepth = 100
)

// SyntaxError is a malformed command: the server answers BAD with Msg
// and goes on with the next command.
type SyntaxError struct {
	Msg string // client-safe reason, e.g. "Invalid arguments."
}

func (e *SyntaxError) Error() string { return e.Msg }

// ErrLineTooLong means a command exceeded the line length limit. Like
// other syntax errors it is answered with BAD; DiscardLine then skips the
// rest of the line without buffering it (Dovecot: "Too long argument").
var ErrLineTooLong = &SyntaxError{Msg: "Too long argument"}

// ErrLiteralTooLarge is a literal over MaxLiteralSize in a command that
// reads it into memory. It is fatal: Dovecot answers "* BYE Literal size
// too large" and disconnects, since a non-synchronising literal's data
// may already be on its way.
var ErrLiteralTooLarge = errors.New("Literal size too large")

// MailboxNameError is a mailbox name that parsed but is not valid
// modified UTF-7; servers answer NO, not BAD.
type MailboxNameError struct {
	Name string // as received
}

func (e *MailboxNameError) Error() string { return "Mailbox name is not valid mUTF-7" }

// DecoderOptions configures a Decoder. Zero values mean the defaults.
type DecoderOptions struct {
	MaxLineLength  int
	MaxLiteralSize int64
	// LiteralMinus limits non-synchronising literals to LiteralMinusMax
	// octets (advertise LITERAL- instead of LITERAL+).
	LiteralMinus bool
	// Continue is called before the data of a synchronising literal is
	// read; the server sends "+ OK" and flushes. Required for literals.
	Continue func() error
}

// Decoder reads IMAP commands from a buffered reader. Errors are sticky:
// after the first failure every Expect method returns false and Err
// reports the failure.
type Decoder struct {
	r    *bufio.Reader
	opts DecoderOptions
	err  error
	n    int  // bytes of the current command outside literal data
	bol  bool // at the beginning of a line (previous command ended)
	// unlimited lifts the line length limit while DiscardLine skips an
	// over-long line.
	unlimited bool

	// A literal whose header was read: litLeft bytes of data follow
	// unless it is synchronising and no continuation was sent.
	inLit   bool
	litSent bool // data will come: non-synchronising, or continued
	litLeft int64

	// utf8: mailbox names arrive as UTF-8, not modified UTF-7 (SetUTF8).
	utf8 bool
	// sentMailbox is the last name ExpectMailbox read, as sent.
	sentMailbox string
}

// SetUTF8 makes ExpectMailbox and ExpectListMailbox take names as UTF-8
// instead of modified UTF-7, for a client that enabled IMAP4rev2 or
// UTF8=ACCEPT (RFC 9051 section 5.1, RFC 6855 section 3). Such names
// must be Net-Unicode (RFC 5198 section 2: no control characters, no
// line or paragraph separator) and are normalised to NFC, as RFC 9051
// section 5.1 lets a server do for every command.
func (d *Decoder) SetUTF8(on bool) { d.utf8 = on }

// SentMailbox returns the last mailbox name ExpectMailbox read as the
// client sent it (before mUTF-7 decoding or NFC normalisation).
func (d *Decoder) SentMailbox() string { return d.sentMailbox }

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r *bufio.Reader, opts DecoderOptions) *Decoder {
	if opts.MaxLineLength <= 0 {
		opts.MaxLineLength = DefaultMaxLineLength
	}
	if opts.MaxLiteralSize <= 0 {
		opts.MaxLiteralSize = DefaultMaxLiteralSize
	}
	return &Decoder{r: r, opts: opts, bol: true}
}

// Begin starts a new command: it clears the error and the line counter.
func (d *Decoder) Begin() {
	d.err = nil
	d.n = 0
	d.inLit = false
}

// Err returns the first error since Begin.
func (d *Decoder) Err() error { return d.err }

// AtLineStart reports whether the previous command was read up to and
// including its CRLF.
func (d *Decoder) AtLineStart() bool { return d.bol }

// Reader returns the underlying reader. Use only between commands (for
// IDLE's DONE line or a SASL response), never in the middle of one.
func (d *Decoder) Reader() *bufio.Reader { return d.r }

// Fail records a syntax error with a client-safe message (for checks
// callers make on what they decoded) and returns false.
func (d *Decoder) Fail(msg string) bool { return d.fail(msg) }

func (d *Decoder) fail(msg string) bool {
	if d.err == nil {
		d.err = &SyntaxError{Msg: msg}
	}
	return false
}

func (d *Decoder) setErr(err error) bool {
	if d.err == nil {
		d.err = err
	}
	return false
}

func (d *Decoder) peek() (byte, bool) {
	if d.err != nil {
		return 0, false
	}
	b, err := d.r.Peek(1)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.setErr(err)
		return 0, false
	}
	return b[0], true
}

func (d *Decoder) readByte() (byte, bool) {
	b, ok := d.peek()
	if !ok {
		return 0, false
	}
	d.r.Discard(1)
	d.bol = false
	d.n++
	if d.n > d.opts.MaxLineLength && !d.unlimited {
		return 0, d.setErr(ErrLineTooLong)
	}
	return b, true
}

// Special consumes b if it is the next byte.
func (d *Decoder) Special(b byte) bool {
	c, ok := d.peek()
	if !ok || c != b {
		return false
	}
	_, ok = d.readByte()
	return ok
}

// ExpectSpecial consumes b or fails.
func (d *Decoder) ExpectSpecial(b byte) bool {
	if d.Special(b) {
		return true
	}
	return d.fail(fmt.Sprintf("Expected '%c'", b))
}

// SP consumes a space if it is next.
func (d *Decoder) SP() bool { return d.Special(' ') }

// ExpectSP consumes a space or fails with Dovecot's generic message.
func (d *Decoder) ExpectSP() bool {
	if d.SP() {
		return true
	}
	return d.fail("Missing arguments.")
}

// EOL reports whether the next byte ends the line, without consuming it.
func (d *Decoder) EOL() bool {
	c, ok := d.peek()
	return ok && (c == '\r' || c == '\n')
}

// CRLF consumes the end of the line (CRLF, or a bare LF as Dovecot
// accepts) if it is next.
func (d *Decoder) CRLF() bool {
	c, ok := d.peek()
	if !ok || (c != '\r' && c != '\n') {
		return false
	}
	d.readByte()
	if c == '\r' && !d.Special('\n') {
		return d.fail("CR sent without LF")
	}
	if d.err != nil {
		return false
	}
	d.bol = true
	return true
}

// ExpectCRLF consumes the end of the line or fails: extra arguments.
func (d *Decoder) ExpectCRLF() bool {
	if d.CRLF() {
		return true
	}
	if d.err == nil && d.SP() {
		return d.fail("Extra arguments.")
	}
	return d.fail("Invalid arguments.")
}

// readWhile reads the longest run of bytes accepted by ok.
func (d *Decoder) readWhile(ok func(byte) bool) string {
	var b strings.Builder
	for {
		c, more := d.peek()
		if !more || !ok(c) {
			return b.String()
		}
		if _, more = d.readByte(); !more {
			return b.String()
		}
		b.WriteByte(c)
	}
}

// Atom reads an atom (1*ATOM-CHAR) if one is next.
func (d *Decoder) Atom(s *string) bool {
	a := d.readWhile(imap.IsAtomChar)
	if a == "" || d.err != nil {
		return false
	}
	*s = a
	return true
}

// ExpectAtom reads an atom or fails.
func (d *Decoder) ExpectAtom(s *string) bool {
	if d.Atom(s) {
		return true
	}
	return d.fail("Invalid arguments.")
}

func isAStringChar(c byte) bool { return imap.IsAtomChar(c) || c == ']' }

func isTagChar(c byte) bool { return isAStringChar(c) && c != '+' }

// ExpectTag reads a command tag.
func (d *Decoder) ExpectTag(s *string) bool {
	t := d.readWhile(isTagChar)
	if t == "" {
		return d.fail("Invalid tag.")
	}
	*s = t
	return d.err == nil
}

// ExpectFlag reads a flag: an atom or a backslash followed by an atom, or
// `\*` (only meaningful in PERMANENTFLAGS; callers reject it elsewhere).
func (d *Decoder) ExpectFlag(s *string) bool {
	prefix := ""
	if d.Special('\\') {
		prefix = `\`
		if d.Special('*') {
			*s = `\*`
			return true
		}
	}
	var a string
	if !d.Atom(&a) {
		return d.fail("Invalid flag.")
	}
	*s = prefix + a
	return true
}

// Number reads a number (up to 2^32-1) if digits are next.
func (d *Decoder) Number(n *uint32) bool {
	var v uint64
	if !d.number64(&v, 1<<32-1) {
		return false
	}
	*n = uint32(v)
	return true
}

// ExpectNumber reads a number or fails.
func (d *Decoder) ExpectNumber(n *uint32) bool {
	if d.Number(n) {
		return true
	}
	return d.fail("Invalid number.")
}

// ExpectNZNumber reads a non-zero number or fails.
func (d *Decoder) ExpectNZNumber(n *uint32) bool {
	if d.ExpectNumber(n) && *n != 0 {
		return true
	}
	return d.fail("Invalid number.")
}

// ExpectNumber64 reads a 63-bit number (RFC 7162 mod-sequence-value) or
// fails.
func (d *Decoder) ExpectNumber64(n *uint64) bool {
	if d.number64(n, 1<<63-1) {
		return true
	}
	return d.fail("Invalid number.")
}

func (d *Decoder) number64(n *uint64, max uint64) bool {
	s := d.readWhile(isDigit)
	if s == "" || d.err != nil {
		return false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return d.fail("Invalid number.")
	}
	*n = v
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// Quoted reads a quoted string if one is next.
func (d *Decoder) Quoted(s *string) bool {
	if !d.Special('"') {
		return false
	}
	var b strings.Builder
	for {
		c, ok := d.readByte()
		if !ok {
			return false
		}
		switch c {
		case '"':
			*s = b.String()
			return true
		case '\\':
			if c, ok = d.readByte(); !ok {
				return false
			}
			if c != '"' && c != '\\' {
				return d.fail("Invalid escape in quoted string.")
			}
		case '\r', '\n', 0:
			return d.fail("Missing '\"'")
		}
		b.WriteByte(c)
	}
}

// LiteralInfo describes a literal's header: {Size} or {Size+}.
type LiteralInfo struct {
	Size    int64
	NonSync bool // {n+}: the client does not wait for a continuation
	Binary  bool // ~{n}: a literal8 (RFC 3516 section 4.2), may hold NUL
}

// Literal8Header reads a literal header that may also be a literal8's
// "~{n}" or "~{n+}" (RFC 3516 section 4.4, APPEND and CATENATE data).
func (d *Decoder) Literal8Header(info *LiteralInfo) bool {
	if d.err != nil {
		return false
	}
	if c, ok := d.peek(); ok && c == '~' {
		d.readByte()
		if !d.LiteralHeader(info) {
			return d.fail("Invalid literal8.")
		}
		info.Binary = true
		return true
	}
	info.Binary = false
	return d.LiteralHeader(info)
}

// LiteralHeader reads a literal header "{n}" or "{n+}" and its CRLF if
// one is next.
func (d *Decoder) LiteralHeader(info *LiteralInfo) bool {
	if !d.Special('{') {
		return false
	}
	var n uint64
	if !d.number64(&n, 1<<63-1) {
		return d.fail("Invalid literal size.")
	}
	info.Size, info.NonSync = int64(n), d.Special('+')
	if !d.ExpectSpecial('}') {
		return false
	}
	if !d.CRLF() {
		return d.fail("Missing CRLF after literal size.")
	}
	d.bol = false
	d.inLit, d.litSent, d.litLeft = true, info.NonSync, info.Size
	if info.NonSync && d.opts.LiteralMinus && info.Size > LiteralMinusMax {
		return d.setErr(&SyntaxError{Msg: "Non-synchronizing literal size too large."})
	}
	return d.err == nil
}

// LiteralBody returns a reader over a literal's data: for a synchronising
// literal it first calls Options.Continue. The caller reads it to the end
// (or calls DiscardLiteral).
func (d *Decoder) LiteralBody(info LiteralInfo) (io.Reader, error) {
	if d.err != nil {
		return nil, d.err
	}
	if !info.NonSync {
		if d.opts.Continue == nil {
			return nil, errors.New("synchronising literal without a continuation func")
		}
		if err := d.opts.Continue(); err != nil {
			d.setErr(err)
			return nil, err
		}
		d.litSent = true
	}
	return &literalReader{d: d}, nil
}

type literalReader struct {
	d *Decoder
}

func (l *literalReader) Read(p []byte) (int, error) {
	d := l.d
	if !d.inLit || d.litLeft <= 0 {
		d.inLit = false
		return 0, io.EOF
	}
	if int64(len(p)) > d.litLeft {
		p = p[:d.litLeft]
	}
	n, err := d.r.Read(p)
	d.litLeft -= int64(n)
	if d.litLeft == 0 {
		d.inLit = false
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		l.d.setErr(err)
	}
	return n, err
}

// Literal reads a whole literal into memory if one is next, subject to
// MaxLiteralSize.
func (d *Decoder) Literal(s *string) bool {
	var info LiteralInfo
	if !d.LiteralHeader(&info) {
		return false
	}
	if info.Size > d.opts.MaxLiteralSize {
		return d.setErr(ErrLiteralTooLarge)
	}
	r, err := d.LiteralBody(info)
	if err != nil {
		return false
	}
	buf := make([]byte, info.Size)
	if _, err := io.ReadFull(r, buf); err != nil {
		return d.setErr(err)
	}
	*s = string(buf)
	return true
}

// String reads a quoted string or a literal if one is next.
func (d *Decoder) String(s *string) bool {
	return d.Quoted(s) || (d.err == nil && d.Literal(s))
}

// ExpectString reads a string or fails.
func (d *Decoder) ExpectString(s *string) bool {
	if d.String(s) {
		return true
	}
	return d.fail("Invalid arguments.")
}

// AString reads an astring (atom with ']' allowed, or a string) if one
// is next.
func (d *Decoder) AString(s *string) bool {
	if d.String(s) {
		return true
	}
	if d.err != nil {
		return false
	}
	a := d.readWhile(isAStringChar)
	if a == "" || d.err != nil {
		return false
	}
	*s = a
	return true
}

// ExpectAString reads an astring or fails.
func (d *Decoder) ExpectAString(s *string) bool {
	if d.AString(s) {
		return true
	}
	return d.fail("Invalid arguments.")
}

// ExpectNString reads a string or NIL; ok reports which.
func (d *Decoder) ExpectNString(s *string, ok *bool) bool {
	if d.String(s) {
		*ok = true
		return true
	}
	var a string
	if d.Atom(&a) && strings.EqualFold(a, "NIL") {
		*ok = false
		return true
	}
	return d.fail("Invalid arguments.")
}

// List reads a parenthesised list if one is next, calling elem for each
// element; elem reads one element and returns false on failure. Elements
// are separated by single spaces.
func (d *Decoder) List(elem func() bool) bool {
	if !d.Special('(') {
		return false
	}
	if d.Special(')') {
		return true
	}
	for {
		if d.EOL() {
			return d.fail("Missing ')'")
		}
		if !elem() {
			return d.fail("Invalid arguments.")
		}
		if d.Special(')') {
			return true
		}
		if d.EOL() {
			return d.fail("Missing ')'")
		}
		if !d.ExpectSP() {
			return false
		}
	}
}

// ExpectList reads a parenthesised list or fails.
func (d *Decoder) ExpectList(elem func() bool) bool {
	if d.List(elem) {
		return true
	}
	return d.fail("Invalid arguments.")
}

// ExpectFlagList reads a list of flags, canonicalising system flags. An
// unknown backslash flag, \Recent and \* fail as in Dovecot ("Invalid
// system flag \RECENT"): clients cannot set them.
func (d *Decoder) ExpectFlagList(flags *[]string) bool {
	var out []string
	ok := d.ExpectList(func() bool {
		var f string
		if !d.ExpectFlag(&f) {
			return false
		}
		c, valid := imap.CanonicalFlag(f)
		if !valid || c == imap.FlagWildcard || c == imap.FlagRecent {
			return d.fail("Invalid system flag " + strings.ToUpper(f))
		}
		out = append(out, c)
		return true
	})
	*flags = out
	return ok
}

func isSeqSetChar(c byte) bool { return isDigit(c) || c == ':' || c == ',' || c == '*' }

// ExpectSeqSet reads a sequence set or fails.
func (d *Decoder) ExpectSeqSet(set *imap.SeqSet) bool {
	s := d.readWhile(isSeqSetChar)
	if d.err != nil {
		return false
	}
	parsed, err := imap.ParseSeqSet(s)
	if err != nil {
		return d.fail("Invalid messageset")
	}
	*set = parsed
	return true
}

// ExpectMailbox reads a mailbox name (astring), decodes modified UTF-7
// and folds any case of INBOX to "INBOX". A name that is not valid
// mUTF-7 sets a *MailboxNameError. After SetUTF8 the name is taken as
// UTF-8, which must be valid.
func (d *Decoder) ExpectMailbox(name *string) bool {
	var raw string
	if !d.ExpectAString(&raw) {
		return false
	}
	d.sentMailbox = raw
	dec, err := d.decodeMailbox(raw)
	if err != nil {
		return d.setErr(&MailboxNameError{Name: raw})
	}
	if strings.EqualFold(dec, "INBOX") {
		dec = "INBOX"
	}
	*name = dec
	return true
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// ExpectDate reads a date (RFC 3501 date: d-Mon-yyyy, optionally quoted)
// as midnight UTC.
func (d *Decoder) ExpectDate(t *time.Time) bool {
	quoted := d.Special('"')
	s := d.readWhile(func(c byte) bool { return isDigit(c) || c == '-' || (c|0x20 >= 'a' && c|0x20 <= 'z') })
	if d.err != nil || (quoted && !d.Special('"')) {
		return d.fail("Invalid date.")
	}
	day, mon, year, ok := parseDate(s)
	if !ok || day < 1 || day > 31 {
		return d.fail("Invalid date.")
	}
	*t = time.Date(year, mon, day, 0, 0, 0, 0, time.UTC)
	return true
}

func parseDate(s string) (day int, mon time.Month, year int, ok bool) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) < 1 || len(parts[0]) > 2 || len(parts[2]) != 4 {
		return 0, 0, 0, false
	}
	day, err1 := strconv.Atoi(strings.TrimSpace(parts[0]))
	year, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || day < 0 || year < 0 {
		return 0, 0, 0, false
	}
	for i, m := range months {
		if strings.EqualFold(m, parts[1]) {
			return day, time.Month(i + 1), year, true
		}
	}
	return 0, 0, 0, false
}

// DateTime reads a date-time ("dd-Mon-yyyy hh:mm:ss +zzzz") if a quoted
// string is next. As in Dovecot, a date that is well-formed but not on
// the calendar ("31-Feb-2020 25:00:00") yields the zero time, which
// storage replaces by the save time.
func (d *Decoder) DateTime(t *time.Time) bool {
	c, ok := d.peek()
	if !ok || c != '"' {
		return false
	}
	var s string
	if !d.Quoted(&s) {
		return false
	}
	v, ok := parseDateTime(s)
	if !ok {
		return d.fail("Invalid internal date")
	}
	*t = v
	return true
}

// parseDateTime parses RFC 3501 date-time syntax (the day may be one
// digit or space-padded).
func parseDateTime(s string) (time.Time, bool) {
	s = strings.TrimPrefix(s, " ")
	date, rest, ok := strings.Cut(s, " ")
	clock, zone, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 || len(clock) != 8 || clock[2] != ':' || clock[5] != ':' || len(zone) != 5 ||
		(zone[0] != '+' && zone[0] != '-') {
		return time.Time{}, false
	}
	day, mon, year, ok := parseDate(date)
	hh, ok1 := digits2(clock[0:2])
	mm, ok2 := digits2(clock[3:5])
	ss, ok3 := digits2(clock[6:8])
	zh, ok4 := digits2(zone[1:3])
	zm, ok5 := digits2(zone[3:5])
	if !ok || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return time.Time{}, false
	}
	offset := (zh*60 + zm) * 60
	if zone[0] == '-' {
		offset = -offset
	}
	v := time.Date(year, mon, day, hh, mm, ss, 0, time.FixedZone("", offset))
	if v.Day() != day || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, true // not on the calendar: "now", as Dovecot
	}
	return v, true
}

func digits2(s string) (int, bool) {
	if len(s) != 2 || !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// DiscardLine skips the rest of the current command, including the data
// of non-synchronising literals. It stops after a synchronising literal's
// header without asking for its data: the client, seeing the tagged
// response, does not send it. Fatal errors (I/O, ErrLineTooLong) are
// returned.
func (d *Decoder) DiscardLine() error {
	if d.bol {
		return nil
	}
	switch d.err.(type) {
	case nil, *SyntaxError, *MailboxNameError:
		d.err = nil
	default:
		return d.err
	}
	d.unlimited = true
	defer func() { d.unlimited = false }()
	if d.inLit {
		d.inLit = false
		if !d.litSent {
			d.bol = true // the client will not send the data
			return nil
		}
		if _, err := io.CopyN(io.Discard, d.r, d.litLeft); err != nil {
			d.setErr(fmt.Errorf("discard literal: %w", err))
			return d.err
		}
	}
	const (
		plain    = iota
		digits   // inside "{", digits seen
		plus     // "{n+"
		closed   // "{n}" or "{n+}"
		closedCR // ... followed by CR
	)
	state, ndigits := plain, 0
	var size int64
	nonSync := false
	for {
		c, ok := d.readByte()
		if !ok {
			return d.err
		}
		switch {
		case c == '\n':
			if (state != closed && state != closedCR) || !nonSync {
				d.bol = true
				return nil
			}
			if _, err := io.CopyN(io.Discard, d.r, size); err != nil {
				d.setErr(fmt.Errorf("discard literal: %w", err))
				return d.err
			}
			state = plain
		case c == '{':
			state, ndigits, size, nonSync = digits, 0, 0, false
		case state == digits && isDigit(c) && ndigits < 18:
			ndigits++
			size = size*10 + int64(c-'0')
		case state == digits && c == '+' && ndigits > 0:
			state, nonSync = plus, true
		case (state == digits && ndigits > 0 || state == plus) && c == '}':
			state = closed
		case state == closed && c == '\r':
			state = closedCR
		default:
			state = plain
		}
	}
}

func isListChar(c byte) bool { return isAStringChar(c) || c == '%' || c == '*' }

// ExpectListMailbox reads a LIST pattern (list-mailbox: a string, or
// ASTRING-CHARs with the wildcards % and *) and decodes modified UTF-7;
// a pattern that is not valid mUTF-7 is returned as received.
func (d *Decoder) ExpectListMailbox(s *string) bool {
	var raw string
	if !d.String(&raw) {
		if d.err != nil {
			return false
		}
		if raw = d.readWhile(isListChar); raw == "" || d.err != nil {
			return d.fail("Invalid arguments.")
		}
	}
	if dec, err := d.decodeMailbox(raw); err == nil {
		raw = dec
	}
	*s = raw
	return true
}

// decodeMailbox turns a name as sent into UTF-8: modified UTF-7, or
// UTF-8 as it is after SetUTF8.
//
// Without SetUTF8 an 8-bit name that is valid UTF-8 is accepted too, its
// ASCII stretches decoded as modified UTF-7: clients that see IMAP4rev2
// advertised may send such names without ENABLE IMAP4rev2 (the go-imap v2
// client sends UTF-8 with '&' written "&-"). Dovecot 2.3 refuses them;
// 7-bit names are decoded exactly as before.
func (d *Decoder) decodeMailbox(raw string) (string, error) {
	if !d.utf8 && isASCII(raw) {
		return imap.DecodeMailbox(raw)
	}
	if !utf8.ValidString(raw) || strings.IndexFunc(raw, notNetUnicode) >= 0 {
		return "", errBadUTF8
	}
	if !d.utf8 {
		return decodeMixed(raw)
	}
	return norm.NFC.String(raw), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// decodeMixed decodes the 7-bit stretches of a UTF-8 name as modified
// UTF-7 and keeps the 8-bit characters as they are; the result is NFC.
func decodeMixed(raw string) (string, error) {
	var b strings.Builder
	for raw != "" {
		i := strings.IndexFunc(raw, func(r rune) bool { return r >= 0x80 })
		if i < 0 {
			i = len(raw)
		}
		part, err := imap.DecodeMailbox(raw[:i])
		if err != nil {
			return "", err
		}
		b.WriteString(part)
		raw = raw[i:]
		j := strings.IndexFunc(raw, func(r rune) bool { return r < 0x80 })
		if j < 0 {
			j = len(raw)
		}
		b.WriteString(raw[:j])
		raw = raw[j:]
	}
	return norm.NFC.String(b.String()), nil
}

var errBadUTF8 = errors.New("mailbox name is not valid Net-Unicode")

// NetUnicodeName reports whether a UTF-8 client can name name exactly: it
// is valid UTF-8, Net-Unicode (RFC 5198 section 2) and in NFC, so that
// ExpectMailbox after SetUTF8 returns it unchanged.
func NetUnicodeName(name string) bool {
	return utf8.ValidString(name) && strings.IndexFunc(name, notNetUnicode) < 0 && norm.NFC.IsNormalString(name)
}

// notNetUnicode reports the characters RFC 6855 section 3 forbids in a
// mailbox name: controls (C0, DEL, C1) and U+2028, U+2029.
func notNetUnicode(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029
}
