package imap

import (
	"strings"
	"testing"

	"roost/internal/message"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestEnvelopeAndBodyStructure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, msg, env, bs string
	}{
		{"no header", "\nbody\n",
			"NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL",
			`"text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL`},
		{"defaults sender and reply-to", "From: A <a@b>\nSubject: x  y\nDate: Mon,\n 1 Jan 2001 00:00:00 +0000\n\n",
			`"Mon, 1 Jan 2001 00:00:00 +0000" {3}` + "\r\nx y" + ` (("A" NIL "a" "b")) (("A" NIL "a" "b")) (("A" NIL "a" "b")) NIL NIL NIL NIL NIL`,
			`"text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL`},
		{"group", "To: g: a@b, c@d;\n\n",
			`NIL NIL NIL NIL NIL ((NIL NIL "g" NIL)(NIL NIL "a" "b")(NIL NIL "c" "d")(NIL NIL NIL NIL)) NIL NIL NIL NIL`,
			`"text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL`},
		{"multipart without parts", "MIME-Version: 1.0\nContent-Type: multipart/mixed\n\nx\n",
			"NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL",
			`("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL) "mixed" NIL NIL NIL NIL`},
		{"broken content-type", "MIME-Version: 1.0\nContent-Type: application/pdf name=x\n\nx\n",
			"NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL",
			`"" "" NIL NIL NIL "7bit" 3 NIL NIL NIL NIL`},
		{"rfc822", "MIME-Version: 1.0\nContent-Type: message/rfc822\n\nSubject: in\n\nb\n",
			"NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL",
			`"message" "rfc822" NIL NIL NIL "7bit" 18 (NIL "in" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := message.Parse(crlf(tc.msg))
			if got := string(Envelope(p)); got != tc.env {
				t.Errorf("envelope:\n got %q\nwant %q", got, tc.env)
			}
			if got := string(BodyStructure(p, true)); got != tc.bs {
				t.Errorf("bodystructure:\n got %q\nwant %q", got, tc.bs)
			}
		})
	}
}

func FuzzBodyStructure(f *testing.F) {
	f.Add(crlf("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: message/rfc822\n\nFrom: a\n\n--x--\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := message.Parse(data)
		_ = Envelope(p)
		_ = BodyStructure(p, true)
		_ = BodyStructure(p, false)
	})
}
