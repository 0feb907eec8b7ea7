package imap

import (
	"testing"
	"unicode/utf8"
)

func TestMailboxUTF7(t *testing.T) {
	t.Parallel()
	tests := []struct{ utf8, utf7 string }{
		{"INBOX", "INBOX"},
		{"&", "&-"},
		{"Tom & Jerry", "Tom &- Jerry"},
		{"Entwürfe", "Entw&APw-rfe"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
		{"Gesendete Objekte", "Gesendete Objekte"},
		{"📧", "&2D3c5w-"},
		{"é&é", "&AOk-&-&AOk-"},
	}
	for _, tt := range tests {
		if got := EncodeMailbox(tt.utf8); got != tt.utf7 {
			t.Errorf("EncodeMailbox(%q) = %q, want %q", tt.utf8, got, tt.utf7)
		}
		got, err := DecodeMailbox(tt.utf7)
		if err != nil || got != tt.utf8 {
			t.Errorf("DecodeMailbox(%q) = %q, %v; want %q", tt.utf7, got, err, tt.utf8)
		}
	}
	for _, bad := range []string{
		"&", "&AOk", "&AGE-", "&AOk-&AOk-", "Entw\xfcrfe", "&AO-", "&AOl-", "&2D0-", "&3cc-", "a\x00b", "&*-",
	} {
		if got, err := DecodeMailbox(bad); err == nil {
			t.Errorf("DecodeMailbox(%q) = %q, want error", bad, got)
		}
	}
}

func FuzzMailboxUTF7(f *testing.F) {
	for _, s := range []string{"INBOX", "&-", "Entw&APw-rfe", "&2D3c5w-", "&AOk"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if dec, err := DecodeMailbox(s); err == nil {
			if enc := EncodeMailbox(dec); enc != s {
				t.Fatalf("DecodeMailbox(%q) = %q re-encodes as %q", s, dec, enc)
			}
		}
		if utf8.ValidString(s) {
			dec, err := DecodeMailbox(EncodeMailbox(s))
			if err != nil || dec != s {
				t.Fatalf("round trip of %q: %q, %v", s, dec, err)
			}
		}
	})
}
