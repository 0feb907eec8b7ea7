package imapwire

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"roost/internal/imap"
)

// newDec returns a decoder over s; continuations are counted in *conts.
func newDec(s string, conts *int) *Decoder {
	return NewDecoder(bufio.NewReader(strings.NewReader(s)), DecoderOptions{
		MaxLineLength:  100,
		MaxLiteralSize: 50,
		Continue: func() error {
			if conts != nil {
				*conts++
			}
			return nil
		},
	})
}

func TestDecoderCommand(t *testing.T) {
	t.Parallel()
	d := newDec("a1 LOGIN \"us\\\"er\" {4}\r\npass\r\n", nil)
	var tag, name, user, pass string
	if !d.ExpectTag(&tag) || !d.ExpectSP() || !d.ExpectAtom(&name) || !d.ExpectSP() ||
		!d.ExpectAString(&user) || !d.ExpectSP() || !d.ExpectAString(&pass) || !d.ExpectCRLF() {
		t.Fatalf("decode: %v", d.Err())
	}
	if tag != "a1" || name != "LOGIN" || user != `us"er` || pass != "pass" {
		t.Fatalf("got %q %q %q %q", tag, name, user, pass)
	}
	if !d.AtLineStart() {
		t.Error("not at line start after CRLF")
	}
}

func TestDecoderLiterals(t *testing.T) {
	t.Parallel()
	var conts int
	d := newDec("{3}\r\nabc {3+}\r\ndef\n", &conts)
	var a, b string
	if !d.ExpectString(&a) || !d.ExpectSP() || !d.ExpectString(&b) || !d.ExpectCRLF() {
		t.Fatalf("decode: %v", d.Err())
	}
	if a != "abc" || b != "def" || conts != 1 {
		t.Fatalf("got %q %q, %d continuations", a, b, conts)
	}
}

func TestDecoderLiteralMinus(t *testing.T) {
	t.Parallel()
	d := NewDecoder(bufio.NewReader(strings.NewReader("{4097+}\r\n")), DecoderOptions{LiteralMinus: true})
	var info LiteralInfo
	if d.LiteralHeader(&info) {
		t.Fatal("LITERAL- accepted a 4097-byte non-synchronising literal")
	}
	var se *SyntaxError
	if !errors.As(d.Err(), &se) {
		t.Fatalf("err = %v", d.Err())
	}
}

func TestDecoderLiteralTooBig(t *testing.T) {
	t.Parallel()
	var conts int
	d := newDec("{51}\r\na2 NOOP\r\n", &conts)
	var s string
	if d.ExpectString(&s) {
		t.Fatal("accepted a literal over MaxLiteralSize")
	}
	if !errors.Is(d.Err(), ErrLiteralTooLarge) || conts != 0 {
		t.Fatalf("err %v, %d continuations", d.Err(), conts)
	}
	if err := d.DiscardLine(); !errors.Is(err, ErrLiteralTooLarge) {
		t.Fatalf("DiscardLine = %v; the error is fatal", err)
	}
}

func TestDecoderSyncLiteralRefused(t *testing.T) {
	t.Parallel()
	var conts int
	d := newDec("{5}\r\na2 NOOP\r\n", &conts)
	var info LiteralInfo
	if !d.LiteralHeader(&info) {
		t.Fatal(d.Err())
	}
	// The command is refused before the continuation: the client sends
	// no data, so the next line is the next command.
	if err := d.DiscardLine(); err != nil || conts != 0 {
		t.Fatalf("DiscardLine: %v, %d continuations", err, conts)
	}
	d.Begin()
	var tag string
	if !d.ExpectTag(&tag) || tag != "a2" {
		t.Fatalf("next command: %q %v", tag, d.Err())
	}
}

func TestDecoderDiscardLine(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, next string }{
		{"x y z\r\nnext", "next"},
		{"x {5+}\r\nab\r\nc y\r\nnext", "next"},
		{"x {5}\r\nnext", "next"}, // synchronising: data never comes
		{"x {2+}\r\nab {1+}\r\nc\r\nnext", "next"},
		{"x {+}\r\nnext", "next"},
	}
	for _, tt := range tests {
		d := newDec(tt.in, nil)
		var a string
		d.ExpectAtom(&a)
		d.ExpectAtom(&a) // fails: SP next
		if err := d.DiscardLine(); err != nil {
			t.Errorf("%q: DiscardLine: %v", tt.in, err)
			continue
		}
		rest, _ := io.ReadAll(d.Reader())
		if string(rest) != tt.next {
			t.Errorf("%q: rest = %q, want %q", tt.in, rest, tt.next)
		}
	}
}

func TestDecoderLineTooLong(t *testing.T) {
	t.Parallel()
	d := newDec(strings.Repeat("a", 200)+"\r\n", nil)
	var s string
	if d.ExpectAtom(&s) {
		t.Fatal("accepted a 200-byte atom with a 100-byte limit")
	}
	if !errors.Is(d.Err(), ErrLineTooLong) {
		t.Fatalf("err = %v", d.Err())
	}
	if err := d.DiscardLine(); err != nil || !d.AtLineStart() {
		t.Fatalf("DiscardLine = %v", err)
	}
}

func TestDecoderStickyErrors(t *testing.T) {
	t.Parallel()
	d := newDec("a b\r\n", nil)
	var n uint32
	if d.ExpectNumber(&n) {
		t.Fatal("ExpectNumber accepted an atom")
	}
	first := d.Err()
	var s string
	if d.ExpectAtom(&s) || d.Err() != first {
		t.Fatal("error not sticky")
	}
}

func TestDecoderQuoted(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`"a b"`: "a b", `""`: "", `"\\\""`: `\"`, `"Mü"`: "Mü"} {
		d := newDec(in+"\r\n", nil)
		var s string
		if !d.ExpectString(&s) || s != want {
			t.Errorf("%s: %q, %v", in, s, d.Err())
		}
	}
	for _, in := range []string{`"a`, "\"a\r\n\"", `"\a"`} {
		d := newDec(in+"\r\n", nil)
		var s string
		if d.ExpectString(&s) {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestDecoderNumbers(t *testing.T) {
	t.Parallel()
	d := newDec("4294967295 4294967296 0\r\n", nil)
	var n uint32
	if !d.ExpectNumber(&n) || n != 4294967295 || !d.ExpectSP() {
		t.Fatalf("max uint32: %d %v", n, d.Err())
	}
	if d.ExpectNumber(&n) {
		t.Fatal("accepted 2^32")
	}
	d = newDec("0\r\n", nil)
	if d.ExpectNZNumber(&n) {
		t.Fatal("ExpectNZNumber accepted 0")
	}
}

func TestDecoderList(t *testing.T) {
	t.Parallel()
	d := newDec(`(\Seen \deleted $Junk) () (\Bogus)`+"\r\n", nil)
	var flags []string
	if !d.ExpectFlagList(&flags) || strings.Join(flags, ",") != `\Seen,\Deleted,$Junk` {
		t.Fatalf("flags %v %v", flags, d.Err())
	}
	if !d.ExpectSP() || !d.ExpectFlagList(&flags) || len(flags) != 0 || !d.ExpectSP() {
		t.Fatalf("empty list: %v", d.Err())
	}
	if d.ExpectFlagList(&flags) {
		t.Fatal(`accepted \Bogus`)
	}
	d = newDec(`(\Recent)`+"\r\n", nil)
	if d.ExpectFlagList(&flags) || d.Err().Error() != `Invalid system flag \RECENT` {
		t.Fatalf(`\Recent: %v`, d.Err())
	}
}

func TestDecoderSeqSetMailboxDate(t *testing.T) {
	t.Parallel()
	d := newDec(`1:3,5:* inbox Entw&APw-rfe "Tom &- Jerry" 1-Feb-2024 "05-Mar-2024" " 4-Jul-2023 10:11:12 +0200"`+"\r\n", nil)
	var set imap.SeqSet
	var a, b, c string
	var d1, d2, dt time.Time
	if !d.ExpectSeqSet(&set) || !d.ExpectSP() || !d.ExpectMailbox(&a) || !d.ExpectSP() ||
		!d.ExpectMailbox(&b) || !d.ExpectSP() || !d.ExpectMailbox(&c) || !d.ExpectSP() ||
		!d.ExpectDate(&d1) || !d.ExpectSP() || !d.ExpectDate(&d2) || !d.ExpectSP() || !d.DateTime(&dt) || !d.ExpectCRLF() {
		t.Fatalf("decode: %v", d.Err())
	}
	if set.String() != "1:3,5:*" || a != "INBOX" || b != "Entwürfe" || c != "Tom & Jerry" {
		t.Fatalf("got %v %q %q %q", set, a, b, c)
	}
	if d1.Format("2006-01-02") != "2024-02-01" || d2.Format("2006-01-02") != "2024-03-05" {
		t.Fatalf("dates %v %v", d1, d2)
	}
	if dt.Format(time.RFC3339) != "2023-07-04T10:11:12+02:00" {
		t.Fatalf("date-time %v", dt)
	}
	for in, want := range map[string]string{
		`"32-Jan-2020 00:00:00 +0000"`: "0001-01-01T00:00:00Z",
		`"31-Feb-2020 25:00:00 +0000"`: "0001-01-01T00:00:00Z",
		`"01-jan-2020 00:00:00 -0130"`: "2020-01-01T00:00:00-01:30",
		`"01-Jan-2020 00:00:00 +9999"`: "2020-01-01T00:00:00+100:39",
	} {
		d = newDec(in+"\r\n", nil)
		if !d.DateTime(&dt) {
			t.Errorf("%s: %v", in, d.Err())
			continue
		}
		if got := dt.Format(time.RFC3339); got != want && !(dt.IsZero() && want[0] == '0') {
			t.Errorf("%s = %s, want %s", in, got, want)
		}
	}
	for _, in := range []string{`"01-Jan-20 00:00:00 +0000"`, `"01-Foo-2020 00:00:00 +0000"`, `"01-Jan-2020 0:00:00 +0000"`} {
		d = newDec(in+"\r\n", nil)
		if d.DateTime(&dt) {
			t.Errorf("%s accepted", in)
		}
	}
	d = newDec("&AOk\r\n", nil)
	var me *MailboxNameError
	if d.ExpectMailbox(&a) || !errors.As(d.Err(), &me) {
		t.Fatalf("bad mUTF-7: %v", d.Err())
	}
}

func TestDecoderLiteralBodyStreams(t *testing.T) {
	t.Parallel()
	var conts int
	d := newDec("{10}\r\n0123456789\r\n", &conts)
	var info LiteralInfo
	if !d.LiteralHeader(&info) || info.Size != 10 || info.NonSync {
		t.Fatalf("header %+v %v", info, d.Err())
	}
	r, err := d.LiteralBody(info)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	if string(b) != "0123456789" || conts != 1 || !d.ExpectCRLF() {
		t.Fatalf("body %q conts %d err %v", b, conts, d.Err())
	}
}

// FuzzDecoder drives a command-shaped sequence of reads over arbitrary
// input: it must never panic or loop, and DiscardLine must always make
// progress.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{
		"a1 LOGIN user pass\r\n", "a2 APPEND INBOX (\\Seen) \" 1-Jan-2020 00:00:00 +0000\" {3+}\r\nabc\r\n",
		"a3 UID FETCH 1:* (FLAGS)\r\n", "a4 LIST \"\" %\r\n", "x {5}\r\n", "\"\\", "((((((", "{99999999999999999999}\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := newDec(s, nil)
		d.SetUTF8(len(s)%2 == 0) // mailbox names as UTF-8 (IMAP4rev2, UTF8=ACCEPT) or mUTF-7
		for i := 0; i < 20; i++ {
			d.Begin()
			var tag, a string
			var n uint32
			var set imap.SeqSet
			var flags []string
			var date time.Time
			_ = d.ExpectTag(&tag) && d.ExpectSP() && d.ExpectAtom(&a) && d.SP() &&
				(d.ExpectFlagList(&flags) || d.ExpectSeqSet(&set) || d.ExpectNumber(&n) ||
					d.ExpectMailbox(&a) || d.ExpectDate(&date) || d.DateTime(&date) || d.ExpectListMailbox(&a)) &&
				d.ExpectCRLF()
			if err := d.DiscardLine(); err != nil {
				return
			}
		}
	})
}
