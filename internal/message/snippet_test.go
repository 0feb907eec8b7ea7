package message

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Expected values were checked against Dovecot 2.3.19 (FETCH PREVIEW).
func TestSnippet(t *testing.T) {
	t.Parallel()
	const h = "From: a@b\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
	mp := func(outer, inner string) string {
		return h + "Content-Type: multipart/" + outer + "; boundary=b1\r\n\r\n--b1\r\nContent-Type: multipart/" + inner +
			"; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b2--\r\n--b1--\r\n"
	}
	for _, tc := range []struct{ name, msg, want string }{
		{"plain", h + "\r\n  Hello\r\n\r\n world  \r\n", "Hello world"},
		{"quoted dropped", h + "\r\nOn Monday:\r\n> old\r\n>> older\r\nnew\r\n", "On Monday: new"},
		{"quoted only", h + "\r\n> only\r\n>  quoted\r\n", ">only quoted"},
		{"bom", h + "\r\n\xef\xbb\xbfHi\r\n", "Hi"},
		{"html", h + "Content-Type: text/html\r\n\r\n<p>a</p><!-- c --> b <script>x</script> c <style>y</style> d <![CDATA[ e ]]> f\r\n", "a b c d e f"},
		{"html entities", h + "Content-Type: text/html\r\n\r\n<p>x &amp; &lt;b&gt; &#65;&#x42; &apos; &#xD800; &foo; & y</p>\r\n", "x & <b> AB ' y"},
		{"first text part only", h + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n  \r\n--b1\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--b1--\r\n", ""},
		{"broken text type", h + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text\r\n\r\nbroken\r\n--b1\r\nContent-Type: text/plain\r\n\r\nB\r\n--b1--\r\n", ""},
		{"broken image type", h + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/\r\n\r\nbroken\r\n--b1\r\nContent-Type: text/plain\r\n\r\nB\r\n--b1--\r\n", "B"},
		{"skip image", h + "Content-Type: multipart/mixed; boundary=b1\r\n\r\npreamble\r\n--b1\r\nContent-Type: image/png\r\n\r\nxx\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--b1--\r\n", "second"},
		{"skip rfc822", h + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\ninner\r\n--b1\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--b1--\r\n", "second"},
		{"mixed in mixed", mp("mixed", "mixed"), "deep"},
		{"multipart in alternative", mp("alternative", "mixed"), ""},
		{"plain alternative wins", h + "Content-Type: multipart/alternative; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/html\r\n\r\n<p>H</p>\r\n--b1\r\nContent-Type: text/plain\r\n\r\nP\r\n--b1--\r\n", "P"},
		{"html before plain in mixed", h + "Content-Type: multipart/mixed; boundary=b1\r\n\r\n--b1\r\nContent-Type: text/html\r\n\r\n<p>H</p>\r\n--b1\r\nContent-Type: text/plain\r\n\r\nP\r\n--b1--\r\n", "H"},
		{"latin1", h + "Content-Type: text/plain; charset=iso-8859-1\r\n\r\nnow\x92s caf\xe9\r\n", "now\u0092s caf\u00e9"},
		{"base64", h + "Content-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29ybGQ=\r\n", "Hello world"},
	} {
		if got := Snippet([]byte(tc.msg), Parse([]byte(tc.msg))); got != tc.want {
			t.Errorf("%s: Snippet = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSnippetLength(t *testing.T) {
	t.Parallel()
	msg := "Subject: t\r\n\r\n" + strings.Repeat("word ", 100) + strings.Repeat("é", 300)
	got := Snippet([]byte(msg), Parse([]byte(msg)))
	if n := utf8.RuneCountInString(got); n != SnippetMaxChars-1 {
		// 200 characters would end in the space after "word": Dovecot
		// leaves the trailing space out.
		t.Errorf("snippet has %d characters: %q", n, got)
	}
}

func FuzzSnippet(f *testing.F) {
	for _, s := range []string{
		"Subject: t\r\n\r\nHello\r\n> quoted\r\n",
		"Content-Type: text/html\r\n\r\n<p>a &amp; <script>x</scr",
		"Content-Type: text/html\r\n\r\n<!-- x -- > <![CDATA[ y &#x1F600; &#99999999; &",
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<b>x</b>\r\n--b--\r\n",
		"\r\n>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := Snippet(data, Parse(data))
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q", s)
		}
		if n := utf8.RuneCountInString(s); n > SnippetMaxChars {
			t.Fatalf("%d characters", n)
		}
	})
}

// Dovecot 2.3.19's answers for text/html bodies (FETCH PREVIEW).
func TestSnippetHTML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ html, want string }{
		{`<a title="x>y">link</a> after`, "link after"},
		{`a<b>c</b>d`, "a c d"},
		{`<SCRIPT>var x="</b>";</SCRIPT>visible`, "visible"},
		{`<style type="text/css">p{}</STYLE >shown`, ""},
		{`<!-- a --->b<!--->c-->d`, "d"},
		{`<!DOCTYPE html><html>hi</html>`, "hi"},
		{`AT&T rocks and a < b > c`, "ATT rocks and a c"},
		{`x &lt y &amp;amp; z`, "x lt y &amp; z"},
		{`line1<br>line2<br/>line3`, "line1 line2 line3"},
		{`<![CDATA[raw <b>text</b>]]> after`, "raw <b>text</b> after"},
		{`<td>a</td><td>b</td>&nbsp;&nbsp;c`, "a b \u00a0\u00a0c"},
		{`<scriptx>hidden?</scriptx>after`, "hidden? after"},
		{`&#x41;&#X42;&#67;&#00068;`, "ACD"},
		{`unterminated <b`, "unterminated"},
		{`<p>Test &amp; &lt;b&gt; &apos; &#65; &#x42; &nbsp;x &foo; &toolongentity; & y</p>`, "Test & <b> ' A B \u00a0x toolongentity; y"},
		{`<p>a &#0; b &#x110000; c &#xD800; d &AMP; e &eacute &Eacute; f &#169 g</p>`, "a b c d e eacute \u00c9 f #169 g"},
	} {
		msg := "From: a@b\r\nSubject: t\r\nContent-Type: text/html\r\n\r\n" + tc.html + "\r\n"
		if got := Snippet([]byte(msg), Parse([]byte(msg))); got != tc.want {
			t.Errorf("%s: Snippet = %q, want %q", tc.html, got, tc.want)
		}
	}
}
