package imapserver

import (
	"strings"
	"testing"
)

// FuzzIMAPURL: CATENATE's URL parser never panics, and what it accepts
// names a mailbox and a UID.
func FuzzIMAPURL(f *testing.F) {
	for _, s := range []string{"/INBOX/;UID=1", "/INBOX;UIDVALIDITY=5/;UID=2/;SECTION=1.2.MIME/;PARTIAL=0.10",
		"imap://a@b/INBOX/;UID=1", "/a%20b/;UID=3/;SECTION=HEADER.FIELDS%20(To)", "/;UID=", "x;y/;z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, msg := parseIMAPURL(s)
		if msg == "" && (u.mailbox == "" || u.uid == 0) {
			t.Fatalf("%q accepted as %+v", s, u)
		}
		if msg == "" && u.section != "" {
			parseURLSection(u.section)
		}
	})
}

// FuzzConvertBinary: the literal8 converter never panics and leaves a
// message without binary parts as it is.
func FuzzConvertBinary(f *testing.F) {
	f.Add([]byte("Subject: a\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out := convertBinary(b)
		if !strings.Contains(strings.ToLower(string(b)), "binary") && string(out) != string(b) {
			t.Fatalf("changed a message without binary parts")
		}
	})
}
