package message

import "strings"

// SnippetMaxChars is the length, in characters, of the preview text
// Dovecot 2.3 keeps for a message (RFC 8970 allows up to 256).
const SnippetMaxChars = 200

// snippetMaxPartBytes bounds how much of one text part Snippet decodes:
// 200 characters are found long before, unless the part is nearly all
// quoted lines or markup.
const snippetMaxPartBytes = 1 << 20

// Snippet returns the preview of a message (RFC 8970) exactly as Dovecot
// 2.3 computes it (message_snippet_generate, checked against Dovecot for
// the shared corpus and probed cases): one part is chosen, the first
// whose type is text (a part without Content-Type counts as text/plain;
// in a multipart/alternative a text/plain alternative wins; parts inside
// message/rfc822, and inside a multipart that is an alternative of a
// multipart/alternative, are never chosen), and only its decoded text is
// read (text/html converted to text; a broken "text" type without
// subtype gives nothing). Runs of whitespace collapse into one space,
// lines that start with '>' are left out, and the result is cut at
// SnippetMaxChars characters; when all the text is quoted the preview is
// '>' and the quoted text. msg is the message root was parsed from.
func Snippet(msg []byte, root *Part) string {
	s := newSnippetBuilder()
	done := false
	root.Walk(func(p *Part) {
		if done || (len(p.Children) > 0 && p.Content.Type != nil) || snippetSkips(p) || plainAlternative(p) {
			return
		}
		typ, sub := partType(p)
		if typ != "text" {
			return
		}
		done = true
		body, ok := snippetPartText(msg, p)
		if !ok || sub == "" {
			return // "Content-Type: text" is chosen but not read, as Dovecot
		}
		if sub == "html" {
			body = (&htmlText{}).convert(body)
		}
		s.add(body)
	})
	return s.result()
}

// snippetSkips reports whether p lies inside a part Snippet does not look
// into: a message/rfc822 part, or a multipart that is one alternative of
// a multipart/alternative.
func snippetSkips(p *Part) bool {
	for a := p.Parent; a != nil; a = a.Parent {
		if a.Flags&FlagMessageRFC822 != 0 || a.Content.Type == nil && len(a.Children) > 0 {
			return true
		}
		if a.Flags&FlagMultipart != 0 && a.Parent != nil && isAlternative(a.Parent) {
			return true
		}
	}
	return false
}

// plainAlternative reports whether p is an alternative of a
// multipart/alternative that also has a text/plain alternative, which
// Snippet takes instead.
func plainAlternative(p *Part) bool {
	if p.Parent == nil || !isAlternative(p.Parent) {
		return false
	}
	if typ, sub := partType(p); typ == "text" && sub == "plain" {
		return false
	}
	for _, sib := range p.Parent.Children {
		if typ, sub := partType(sib); typ == "text" && sub == "plain" {
			return true
		}
	}
	return false
}

func isAlternative(p *Part) bool {
	typ, sub := partType(p)
	return typ == "multipart" && sub == "alternative"
}

// partType returns the lower-cased type and subtype of a part, text/plain
// when it has no Content-Type.
func partType(p *Part) (string, string) {
	if p.Content.Type == nil {
		return "text", "plain"
	}
	sub := ""
	if p.Content.Subtype != nil {
		sub = strings.ToLower(*p.Content.Subtype)
	}
	return strings.ToLower(*p.Content.Type), sub
}

// snippetPartText decodes (a prefix of) a part's body to UTF-8; false when
// its transfer encoding is unknown (Dovecot's decoder skips the part).
func snippetPartText(msg []byte, p *Part) ([]byte, bool) {
	if p.Offset < 0 || p.BodyOffset() > p.End() || p.End() > int64(len(msg)) {
		return nil, false
	}
	enc, ok := partCTE(msg[p.Offset:p.BodyOffset()])
	if !ok {
		return nil, false
	}
	raw := msg[p.BodyOffset():p.End()]
	if len(raw) > snippetMaxPartBytes {
		raw = raw[:snippetMaxPartBytes]
	}
	charset := ""
	for _, prm := range p.Content.Params {
		if strings.EqualFold(prm.Name, "charset") {
			charset = prm.Value
			break
		}
	}
	return []byte(ToUTF8(charset, DecodeBody(enc, raw))), true
}

type snippetState int

const (
	snippetNewline snippetState = iota // at the start of a line
	snippetNormal
	snippetQuoted // in a line that started with '>'
)

// snippetText is one of the two texts a snippetBuilder collects.
type snippetText struct {
	buf  []byte
	left int // characters still allowed
}

// snippetBuilder collects the unquoted text and, in case there is none,
// the quoted text.
type snippetBuilder struct {
	state   snippetState
	pending bool // whitespace seen since the last character
	main    snippetText
	quoted  snippetText
}

func newSnippetBuilder() *snippetBuilder {
	return &snippetBuilder{
		main:   snippetText{left: SnippetMaxChars},
		quoted: snippetText{left: SnippetMaxChars - 1}, // room for the '>'
	}
}

// add feeds decoded UTF-8 text; false once the unquoted text is full.
func (s *snippetBuilder) add(data []byte) bool {
	for i := 0; i < len(data); {
		t := &s.main
		switch s.state {
		case snippetNewline:
			s.state = snippetNormal
			if data[i] == '>' {
				s.state = snippetQuoted
				i++
				if i == len(data) {
					return true
				}
				t = &s.quoted
			}
		case snippetQuoted:
			t = &s.quoted
		}
		i += s.addChar(t, data[i:])
		if s.main.left == 0 {
			return false
		}
	}
	return true
}

// addChar adds the character at the start of d to t and returns how many
// bytes it consumed.
func (s *snippetBuilder) addChar(t *snippetText, d []byte) int {
	if len(d) >= 3 && (d[0] == 0xEF && d[1] == 0xBB && d[2] == 0xBF || d[0] == 0xBF && d[1] == 0xBB && d[2] == 0xEF) {
		return 3 // byte order mark
	}
	c := d[0]
	switch {
	case c == 0:
		return 1
	case isCSpace(c):
		if len(t.buf) > 0 {
			s.pending = true
		}
		if c == '\n' {
			s.state = snippetNewline
		}
		return 1
	case t.left == 0:
		return 1
	}
	t.left--
	if s.pending {
		if t.left == 0 {
			return 1 // no trailing space
		}
		t.buf = append(t.buf, ' ')
		s.pending = false
		t.left--
	}
	n := min(utf8LeadLen(c), len(d))
	t.buf = append(t.buf, d[:n]...)
	return n
}

func (s *snippetBuilder) result() string {
	if len(s.main.buf) > 0 {
		return strings.TrimLeft(string(s.main.buf), " \t\n\v\f\r")
	}
	if len(s.quoted.buf) > 0 {
		return ">" + strings.TrimLeft(string(s.quoted.buf), " \t\n\v\f\r")
	}
	return ""
}

// isCSpace is C's isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || c >= '\t' && c <= '\r'
}

// utf8LeadLen is the length of the UTF-8 sequence a byte starts.
func utf8LeadLen(c byte) int {
	switch {
	case c < 0xC0:
		return 1
	case c < 0xE0:
		return 2
	case c < 0xF0:
		return 3
	default:
		return 4
	}
}
