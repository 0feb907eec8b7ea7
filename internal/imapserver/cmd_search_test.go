package imapserver

import (
	"strings"
	"testing"
)

func TestSearch(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	c.appendMsg("INBOX", "Subject: plain\r\nFrom: tux@example.org\r\n\r\nnothing here\r\n", `\Seen`)
	c.appendMsg("INBOX", h5Multipart, `\Flagged`, "Project")
	c.appendMsg("INBOX", "Subject: big\r\nX-Spam: yes\r\n\r\n"+strings.Repeat("x", 500)+"\r\n", `\Deleted`)
	c.do("s SELECT INBOX")
	tests := []struct{ cmd, want string }{
		{"SEARCH ALL", "1 2 3"},
		{"SEARCH SEEN", "1"},
		{"SEARCH UNSEEN", "2 3"},
		{"SEARCH NEW", "2 3"},
		{"SEARCH OLD", ""},
		{"SEARCH FLAGGED KEYWORD project", "2"},
		{"SEARCH UNKEYWORD Project", "1 3"},
		{"SEARCH DELETED", "3"},
		{"SEARCH LARGER 400", "2 3"},
		{"SEARCH SMALLER 100", "1"},
		{"SEARCH SUBJECT \"münchen trip\"", "2"},
		{"SEARCH CHARSET UTF-8 SUBJECT \"MÜNCHEN\"", "2"},
		{"SEARCH BODY \"grüße\"", "2"},
		{"SEARCH BODY \"inner body\"", "2"},
		{"SEARCH TEXT inner", "2"},
		{"SEARCH TEXT X-SPAM", "3"},
		{"SEARCH BODY X-Spam", ""},
		{"SEARCH HEADER X-Spam \"\"", "3"},
		{"SEARCH FROM TUX", "1"},
		{"SEARCH OR FROM tux SUBJECT big", "1 3"},
		{"SEARCH NOT (OR 1 3)", "2"},
		{"SEARCH 2:*", "2 3"},
		{"UID SEARCH UID 2:*", "2 3"},
		{"UID SEARCH UID 9:*", "3"},
		{"SEARCH ON 30-Nov-2013", "1 2 3"},
		{"SEARCH BEFORE 30-Nov-2013", ""},
		{"SEARCH SINCE 1-Dec-2013", ""},
		{"SEARCH SENTON 30-Nov-2013", "2"},
		{"SEARCH SENTSINCE 1-Dec-2013", ""},
		{"SEARCH SENTBEFORE \"1-Dec-2013\"", "1 2 3"}, // no Date: is 1970-01-01, as in Dovecot
		{"SEARCH SENTBEFORE 2-Jan-1970", "1 3"},
		{"SEARCH SENTON 1-Jan-1970", "1 3"},
		{"SEARCH (SEEN) (UNDELETED)", "1"},
	}
	for _, tt := range tests {
		got := c.do("x " + tt.cmd)
		want := "* SEARCH\r\nx OK Search completed.\r\n"
		if tt.want != "" {
			want = "* SEARCH " + tt.want + "\r\nx OK Search completed.\r\n"
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", tt.cmd, got, want)
		}
	}
	c.expect("b1 SEARCH CHARSET x-bogus ALL", "\nb1 NO [BADCHARSET] Unknown charset.\n")
	c.expect("b2 SEARCH FOO", "\nb2 BAD Error in IMAP command SEARCH: Unknown argument FOO\n")
	c.expect("b3 UID SEARCH OR ALL", "\nb3 BAD Error in IMAP command UID SEARCH: Missing argument for OR\n")
	c.expect("b4 SEARCH CHARSET iso-8859-1 BODY {7+}\r\nM\xfcnchen", "* SEARCH 2\nb4 OK Search completed.\n")
}

// TestSearchDovecotRules covers the rules taken from Dovecot 2.3 (see
// testdata/oracle/MISMATCHES.md): address keys match the rewritten
// address list, BODY reads only text/*, message/* and untyped parts, and
// Date: values wrap at 32 bits.
func TestSearchDovecotRules(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	c.appendMsg("INBOX", "From: Pete(A wonderful \\) chap) <pete(his account)@silly.test(his host)>\r\n"+
		"To: foo\r\nSubject:   spaced\t\tout   words\r\nDate: Thu, 13 Feb 1969 23:32 -0330\r\n\r\nbody\r\n")
	c.appendMsg("INBOX", "From: a@b.example\r\nDate: Mon, 30 Jun 3609 15:33:50 +0600\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nvisible text\r\n"+
		"--b\r\nContent-Type: application/pgp-signature\r\n\r\nGnuPG hidden\r\n--b--\r\n")
	c.appendMsg("INBOX", "Content-Type: multipart/mixed; boundary=never\r\n\r\npreamble only\r\n")
	c.do("s SELECT INBOX")
	tests := []struct{ cmd, want string }{
		{`SEARCH FROM "pete@silly.test"`, "1"},
		{`SEARCH FROM "Pete <pete@"`, "1"},
		{`SEARCH TO "foo@MISSING_DOMAIN"`, "1"},
		{`SEARCH SUBJECT "spaced out words"`, "1"},
		{`SEARCH BODY visible`, "2"},
		{`SEARCH BODY hidden`, ""},
		{`SEARCH TEXT pgp-signature`, "2"},
		{`SEARCH BODY preamble`, ""},
		{`SEARCH SENTON 30-Jun-3609`, ""},
		{`SEARCH SENTSINCE 13-Feb-1969`, "1 2 3"},
		{`SEARCH SENTBEFORE 1-Jan-1970`, ""},
	}
	for _, tt := range tests {
		got := c.do("x " + tt.cmd)
		want := "* SEARCH\r\nx OK Search completed.\r\n"
		if tt.want != "" {
			want = "* SEARCH " + tt.want + "\r\nx OK Search completed.\r\n"
		}
		if got != want {
			t.Errorf("%s: got %q, want %q", tt.cmd, got, want)
		}
	}
}

func FuzzSearchParse(f *testing.F) {
	for _, s := range []string{
		"ALL", "OR (FROM a SUBJECT b) NOT 1:*", "CHARSET UTF-8 TEXT \"x\"", "UID 1,3:* LARGER 5",
		"HEADER X-Y {3}\r\nabc", "SENTBEFORE 1-Jan-2013 KEYWORD $x", "((((NOT SEEN))))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseSearch(testDecoder(s+"\r\n"), "SEARCH")
		if err == nil && k == nil {
			t.Fatalf("%q: nil program without error", s)
		}
	})
}
