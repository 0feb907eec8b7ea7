package imapwire

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"
)

func encode(f func(e *Encoder)) string {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	e := NewEncoder(w)
	f(e)
	e.Flush()
	return b.String()
}

func TestEncoder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    func(e *Encoder)
		want string
	}{
		{func(e *Encoder) { e.Star().Atom("OK").SP().Text("hi\r\nthere").CRLF() }, "* OK hi  there\r\n"},
		{func(e *Encoder) { e.String(`a "b" \c`) }, `"a \"b\" \\c"`},
		{func(e *Encoder) { e.String("Mü") }, "{3}\r\nMü"},
		{func(e *Encoder) { e.String("a\r\nb") }, "{4}\r\na\r\nb"},
		{func(e *Encoder) { e.AString("INBOX") }, "INBOX"},
		{func(e *Encoder) { e.AString("nil") }, `"nil"`},
		{func(e *Encoder) { e.AString("") }, `""`},
		{func(e *Encoder) { e.AString("a b") }, `"a b"`},
		{func(e *Encoder) { e.NString("", false) }, "NIL"},
		{func(e *Encoder) { e.Mailbox("Entwürfe") }, `Entw&APw-rfe`},
		{func(e *Encoder) { e.Mailbox("a b") }, `"a b"`},
		{func(e *Encoder) { e.Mailbox("") }, `""`},
		{func(e *Encoder) { e.Mailbox("INBOX") }, "INBOX"},
		{func(e *Encoder) { e.Flags([]string{`\Seen`, "$Junk"}) }, `(\Seen $Junk)`},
		{func(e *Encoder) { e.Flags(nil) }, `()`},
		{func(e *Encoder) { e.Atom("bad atom") }, `"bad atom"`},
		{func(e *Encoder) { e.Number(7).SP().Number64(1 << 40) }, "7 1099511627776"},
		{func(e *Encoder) { e.List(2, func(i int) { e.Number(uint32(i)) }) }, "(0 1)"},
		{func(e *Encoder) { e.LiteralFrom(strings.NewReader("abc"), 3) }, "{3}\r\nabc"},
		{func(e *Encoder) {
			e.DateTime(time.Date(2024, 3, 5, 7, 8, 9, 0, time.FixedZone("", -5*3600)))
		}, `"05-Mar-2024 07:08:09 -0500"`},
	}
	for i, tt := range tests {
		if got := encode(tt.f); got != tt.want {
			t.Errorf("%d: got %q, want %q", i, got, tt.want)
		}
	}
}

func TestEncoderShortLiteralSource(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	e := NewEncoder(bufio.NewWriter(&b))
	if e.LiteralFrom(strings.NewReader("ab"), 3).Err() == nil {
		t.Fatal("short literal source not reported")
	}
}
