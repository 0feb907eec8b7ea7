package imapwire

import (
	"errors"
	"strings"
	"testing"
)

// RFC 9051 section 5.1 and RFC 6855 section 3: after SetUTF8 mailbox
// names travel as UTF-8 and quoted strings may hold UTF-8.
func TestEncoderUTF8(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f    func(e *Encoder)
		want string
	}{
		{func(e *Encoder) { e.Mailbox("Entwürfe") }, `"Entwürfe"`},
		{func(e *Encoder) { e.Mailbox("a&b") }, `a&b`},
		{func(e *Encoder) { e.Mailbox("INBOX") }, `INBOX`},
		{func(e *Encoder) { e.String("Mü") }, `"Mü"`},
		{func(e *Encoder) { e.String("M\xff") }, "{2}\r\nM\xff"}, // not UTF-8: literal
		{func(e *Encoder) { e.String("a\r\nü") }, "{5}\r\na\r\nü"},
	}
	for _, tt := range tests {
		got := encode(func(e *Encoder) { e.SetUTF8(true); tt.f(e) })
		if got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	// Off again: modified UTF-7 as before.
	if got := encode(func(e *Encoder) { e.SetUTF8(true); e.SetUTF8(false); e.Mailbox("Entwürfe") }); got != `Entw&APw-rfe` {
		t.Errorf("after SetUTF8(false): %q", got)
	}
}

func TestDecoderUTF8Mailbox(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		utf8     bool
		bad      bool
	}{
		{`"Entwürfe"`, "Entwürfe", true, false},
		{`Entw&APw-rfe`, "Entw&APw-rfe", true, false}, // '&' is just a character
		{`Entw&APw-rfe`, "Entwürfe", false, false},
		{`inbox`, "INBOX", true, false},
		{"\"M\xff\"", "", true, true},
		{"\"a\u2028b\"", "", true, true},         // line separator: not Net-Unicode
		{"\"a\u0085b\"", "", true, true},         // C1 control
		{"\"Cafe\u0301\"", "Café", true, false},  // normalised to NFC
		{`"Entwürfe"`, "Entwürfe", false, false}, // UTF-8 without ENABLE (go-imap v2 after seeing IMAP4rev2)
		{`"a&-bü&AOk-"`, "a&büé", false, false},  // ... with mUTF-7 in its 7-bit stretches
		{"\"M\xff\"", "", false, true},           // not UTF-8: refused as before
		{`"a&Jjo!ü"`, "", false, true},           // broken mUTF-7 stretch
	}
	for _, tt := range tests {
		d := newDec(tt.in+"\r\n", nil)
		d.SetUTF8(tt.utf8)
		var got string
		ok := d.ExpectMailbox(&got)
		var me *MailboxNameError
		if tt.bad {
			if ok || !errors.As(d.Err(), &me) {
				t.Errorf("%q utf8=%v: got %q, err %v; want MailboxNameError", tt.in, tt.utf8, got, d.Err())
			}
			continue
		}
		if !ok || got != tt.want {
			t.Errorf("%q utf8=%v: got %q (%v), want %q", tt.in, tt.utf8, got, d.Err(), tt.want)
		}
		if sent := d.SentMailbox(); sent != strings.Trim(tt.in, `"`) {
			t.Errorf("%q: SentMailbox %q", tt.in, sent)
		}
	}
	d := newDec("\"Entwürfe/*\"\r\n", nil)
	d.SetUTF8(true)
	var pat string
	if !d.ExpectListMailbox(&pat) || pat != "Entwürfe/*" {
		t.Errorf("list pattern %q, %v", pat, d.Err())
	}
}
