package message

import (
	"errors"
	"os"
	"path/filepath"
	"roost/internal/shareddir"
	"sort"
	"strings"
	"testing"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// checkTree verifies the invariants every parse must keep: sizes add up to
// the input and children lie inside their parent.
func checkTree(t testing.TB, data []byte, root *Part) {
	t.Helper()
	if got := root.Header.Physical + root.Body.Physical; got != int64(len(data)) {
		t.Fatalf("root covers %d bytes, input has %d", got, len(data))
	}
	root.Walk(func(p *Part) {
		if p.Offset < 0 || p.End() > int64(len(data)) || p.BodyOffset() > p.End() {
			t.Fatalf("part [%d,%d,%d) outside input of %d", p.Offset, p.BodyOffset(), p.End(), len(data))
		}
		for _, c := range p.Children {
			if c.Offset < p.BodyOffset() || c.End() > p.End() {
				t.Fatalf("child [%d,%d) outside parent body [%d,%d)", c.Offset, c.End(), p.BodyOffset(), p.End())
			}
		}
	})
}

func TestParseSimple(t *testing.T) {
	t.Parallel()
	msg := crlf("From: a@b\nSubject: hi\n\nline1\nline2\n")
	p := Parse(msg)
	checkTree(t, msg, p)
	if p.Header.Lines != 3 || p.Body.Lines != 2 || p.Flags != FlagText {
		t.Fatalf("got header %+v body %+v flags %v", p.Header, p.Body, p.Flags)
	}
	if p.Envelope == nil || *p.Envelope.Subject != "hi" || *p.Envelope.From[0].Domain != "b" {
		t.Fatalf("envelope %+v", p.Envelope)
	}
}

func TestParseMultipartMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		msg      string
		children int
		check    func(t *testing.T, p *Part)
	}{
		{"missing end boundary", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\none\n--x\n\ntwo\n", 2, nil},
		{"preamble and epilogue", "Content-Type: multipart/mixed; boundary=x\nMIME-Version: 1.0\n\npre\n--x\n\none\n--x--\nepi\n", 1,
			func(t *testing.T, p *Part) {
				// the CRLF before a boundary belongs to the boundary
				if c := p.Children[0]; c.Body.Physical != 3 || c.Body.Lines != 0 {
					t.Errorf("child body %+v", c.Body)
				}
			}},
		{"no header/body separator", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n--x--\n", 1,
			func(t *testing.T, p *Part) {
				// the header's last newline belongs to the boundary
				if c := p.Children[0]; c.Body.Physical != 0 || c.Header.Lines != 0 || c.Header.Physical != 24 {
					t.Errorf("child header %+v body %+v", c.Header, c.Body)
				}
			}},
		{"nested same prefix", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/alternative; boundary=ab\n\n--ab\n\nx\n--ab--\n--a--\n", 1,
			func(t *testing.T, p *Part) {
				if len(p.Children[0].Children) != 1 {
					t.Errorf("inner children %d", len(p.Children[0].Children))
				}
			}},
		{"no boundary parameter", "MIME-Version: 1.0\nContent-Type: multipart/mixed\n\nbody\n", 0, nil},
		{"without MIME-Version", "Content-Type: multipart/mixed; boundary=x\n\n--x\n\none\n--x--\n", 1, nil},
		{"NUL bytes", "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\no\x00ne\n--x--\n", 1,
			func(t *testing.T, p *Part) {
				if !p.Children[0].Is(FlagHasNULs) {
					t.Error("NUL not flagged")
				}
			}},
		{"8-bit header", "Subject: gr\xfc\xdf\nMIME-Version: 1.0\nContent-Type: text/plain\n\nx\n", 0, nil},
		{"long line", "MIME-Version: 1.0\nContent-Type: text/plain\n\n" + strings.Repeat("y", 5000) + "\n", 0, nil},
		{"message/rfc822", "MIME-Version: 1.0\nContent-Type: message/rfc822\n\nSubject: inner\n\nbody\n", 1,
			func(t *testing.T, p *Part) {
				if e := p.Children[0].Envelope; e == nil || *e.Subject != "inner" {
					t.Errorf("inner envelope %+v", e)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := crlf(tc.msg)
			p := Parse(msg)
			checkTree(t, msg, p)
			if len(p.Children) != tc.children {
				t.Fatalf("children = %d, want %d", len(p.Children), tc.children)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

func TestParseNestingLimit(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for i := 0; i < 3*MaxNestedParts; i++ {
		b.WriteString("MIME-Version: 1.0\nContent-Type: message/rfc822\n\n")
	}
	b.WriteString("Subject: deep\n\nbody\n")
	msg := crlf(b.String())
	p := Parse(msg)
	checkTree(t, msg, p)
	depth := 0
	for ; len(p.Children) > 0; p = p.Children[0] {
		depth++
	}
	if depth >= MaxNestedParts {
		t.Fatalf("depth %d not limited", depth)
	}
}

func TestContentParams(t *testing.T) {
	t.Parallel()
	msg := crlf("MIME-Version: 1.0\nContent-Type: text/plain; name*0=\"a\"; name*1*=%41; charset=\"x\\\"y\"\nContent-Disposition: attachment; filename=f.txt\nContent-Language: en, de\n\nx\n")
	c := Parse(msg).Content
	want := []Param{{"charset", `x"y`}, {"name*", "''a%41"}}
	if len(c.Params) != 2 || c.Params[0] != want[0] || c.Params[1] != want[1] {
		t.Fatalf("params %q", c.Params)
	}
	if *c.Disposition != "attachment" || c.DispositionParams[0].Value != "f.txt" || len(c.Language) != 2 {
		t.Fatalf("content %+v", c)
	}
}

func TestAddresses(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"a@b", "nil a b"},
		{`"Joe Q." <joe@x.org>`, "Joe Q. joe x.org"},
		{"joe@x.org (Joe)", "Joe joe x.org"},
		{"undisclosed-recipients:;", "nil undisclosed-recipients nil|nil nil nil"},
		{"<@route:a@b>", "nil a b"},
		{"broken", "nil broken MISSING_DOMAIN"},
		{"Name <>", "Name MISSING_MAILBOX MISSING_DOMAIN"},
		{"x <a@", "x a SYNTAX_ERROR"},
		{"<....@d.org>", "nil .... d.org"},
	}
	for _, tc := range tests {
		var parts []string
		for _, a := range ParseAddressList([]byte(tc.in)) {
			parts = append(parts, ns(a.Name)+" "+ns(a.Mailbox)+" "+ns(a.Domain))
		}
		if got := strings.Join(parts, "|"); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func ns(s *string) string {
	if s == nil {
		return "nil"
	}
	return *s
}

func TestHeaderFields(t *testing.T) {
	t.Parallel()
	hdr := crlf("From: a\nSubject: b\n c\nTo: d\n\n")
	if got := string(HeaderFields(hdr, []string{"subject"}, false)); got != "Subject: b\r\n c\r\n\r\n" {
		t.Errorf("fields %q", got)
	}
	if got := string(HeaderFields(hdr, []string{"subject"}, true)); got != "From: a\r\nTo: d\r\n\r\n" {
		t.Errorf("fields.not %q", got)
	}
	// without an empty line ending the header (Dovecot 2.3 oracle)
	noEOH := crlf("From: a\nSubject: b\n")
	if got := string(HeaderFields(noEOH, []string{"subject"}, false)); got != "Subject: b\r\n\r\n" {
		t.Errorf("fields, no eoh %q", got)
	}
	if got := string(HeaderFields(noEOH, []string{"received"}, true)); got != "From: a\r\nSubject: b\r\n" {
		t.Errorf("fields.not, no eoh %q", got)
	}
	if got := string(HeaderFields([]byte("// junk"), []string{"received"}, true)); got != "// junk" {
		t.Errorf("fields.not, unterminated %q", got)
	}
}

func TestDecodedHeaderValue(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"=?iso-8859-1?q?caf=E9?= =?utf-8?b?w6k=?=", "caféé"},
		{"plain =?utf-8?Q?a_b?= text", "plain a b text"},
		{"=?bogus", "=?bogus"},
		{"a\r\n b", "a b"},
		// raw 8-bit text that is not UTF-8 becomes U+FFFD (Dovecot)
		{"G\xfcnter caf\xc3\xa9", "G\uFFFDnter café"},
	}
	for _, tc := range tests {
		if got := DecodedHeaderValue([]byte(tc.in)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDecodeBodyPart(t *testing.T) {
	t.Parallel()
	msg := crlf("MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\ncaf=E9 =\nx\n")
	p := Parse(msg)
	got, err := DecodeBodyPart(msg, p)
	if err != nil || string(got) != "café x\r\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, cte := range []string{"7-bit", "8bits", "", "x-uuencode"} {
		m := crlf("MIME-Version: 1.0\nContent-Transfer-Encoding: " + cte + "\n\nhello\n")
		if _, err := DecodeBodyPart(m, Parse(m)); !errors.Is(err, ErrUnknownCTE) {
			t.Errorf("CTE %q: err %v, want ErrUnknownCTE", cte, err)
		}
	}
	// GB2312 is strict EUC-CN as in iconv: a GBK-only pair (0x82 0x7B) is
	// not decoded
	gb := crlf("Content-Type: text/plain; charset=GB2312\n\n\xc4\xe3\x82\x7b!\n")
	if got, _ := DecodeBodyPart(gb, Parse(gb)); string(got) != "你\uFFFD{!\r\n" {
		t.Errorf("gb2312: got %q", got)
	}
	// the last Content-Transfer-Encoding counts, as in Dovecot's decoder
	last := crlf("MIME-Version: 1.0\nContent-Transfer-Encoding: bogus\nContent-Transfer-Encoding: Base64\n\naGk=\n")
	if got, err := DecodeBodyPart(last, Parse(last)); err != nil || string(got) != "hi" {
		t.Errorf("last CTE: got %q, %v", got, err)
	}
	b64 := crlf("MIME-Version: 1.0\nContent-Transfer-Encoding: base64\n\naGVs\nbG8=\n")
	if got, _ := DecodeBodyPart(b64, Parse(b64)); string(got) != "hello" {
		t.Fatalf("base64 got %q", got)
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Thu, 22 Aug 2002 18:26:25 +0700", "2002-08-22T18:26:25+07:00"},
		{"22 Aug 02 18:26 EST", "2002-08-22T18:26:00-05:00"},
		{"Fri, 6 Apr 2001 09:23:06 -0800 (GMT-0800)", "2001-04-06T09:23:06-08:00"},
		{"Sat, 1 Jan 99 00:00:00 GMT", "1999-01-01T00:00:00Z"},
		// Dovecot 2.3 message_date_parse behaviour (SEARCH SENT* oracle)
		{"Thu,\n      13\n        Feb\n          1969\n      23:32\n    -0330 (Newfoundland Time)", "1969-02-13T23:32:00-03:30"},
		{"22 August 2002 16.06.15 +0000", "2002-08-22T16:06:15Z"},
		{"1 Jan 69 00:00:60 XYZ", "2069-01-01T00:00:59Z"},
		{"1 Jan 2000 00:00 EDT", "2000-01-01T00:00:00-04:00"},
		{"Mon, 30 Jun 3609 15:33:50 +0600", "3609-06-30T15:33:50+06:00"},
	}
	for _, tc := range tests {
		d, ok := ParseDate([]byte(tc.in))
		if !ok || d.Format("2006-01-02T15:04:05Z07:00") != tc.want {
			t.Errorf("%q: got %v %v, want %s", tc.in, d, ok, tc.want)
		}
	}
	for _, bad := range []string{
		"garbage",
		"Tue, 17 Sep 0102 16:06:15 -1100", // four-digit year below 1900
		"Tue, 17 Sep 102 16:06:15 -1100",  // three-digit year
		"2002/09/14 Sat 13:06:03 GMT",
		"Thursday, 22 Aug 2002 18:26:25 +0700", // day name not 3 letters
		"Thu 22 Aug 2002 18:26:25 +0700",       // day name without comma
		"31 Feb 2002 10:00",
		"1 Jan 2002 24:00",
		"1 Jan 2002 10:5",
		"1 Jan 2002 10:05 (unterminated",
	} {
		if d, ok := ParseDate([]byte(bad)); ok {
			t.Errorf("%q parsed as %v", bad, d)
		}
	}
}

// corpusSeeds returns up to n corpus files, torture ones first.
func corpusSeeds(tb testing.TB, n int) [][]byte {
	dir := shareddir.Path("corpus")
	var paths []string
	for _, glob := range []string{"torture/*/*", "torture/*/*/*", "spamassassin/spam-1/*"} {
		m, _ := filepath.Glob(filepath.Join(dir, glob))
		sort.Strings(m)
		paths = append(paths, m...)
	}
	var out [][]byte
	for _, p := range paths {
		if len(out) >= n {
			break
		}
		if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
			out = append(out, data)
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	f.Add(crlf("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\n\none\n--x--\n"))
	for _, s := range corpusSeeds(f, 200) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := Parse(data)
		checkTree(t, data, p)
		p.Walk(func(part *Part) {
			if len(part.Children) == 0 {
				_, _ = DecodeBodyPart(data, part)
			}
		})
	})
}

func FuzzAddressList(f *testing.F) {
	for _, s := range []string{"a@b", `"x" <a@b>, g: c@d;`, "<@r,@s:a@b>", "(c) a.b@[1.2.3.4]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ParseAddressList(data)
		_ = DecodedHeaderValue(data)
		_, _ = ParseDate(data)
	})
}
