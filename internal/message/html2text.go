package message

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

type htmlState int

const (
	htmlInText htmlState = iota
	htmlTag
	htmlTagDQuoted
	htmlTagSQuoted
	htmlComment
	htmlCommentEnd
	htmlCommentEnd2
	htmlScript
	htmlStyle
	htmlCDATA
)

// htmlEntityMax is the longest entity name (with '#' for numbers) that is
// decoded; longer ones are broken and their '&' is dropped.
const htmlEntityMax = 9

// htmlText turns HTML into text as Dovecot's mail_html2text does for
// snippets: tags become one space, comments, <script> and <style> vanish,
// entities are decoded. It keeps state between calls: input that ends
// inside a tag or entity name waits for the next call.
type htmlText struct {
	state htmlState
	rest  []byte // unconsumed input from the last call
}

// convert returns the text of the next chunk of HTML.
func (h *htmlText) convert(data []byte) []byte {
	if len(h.rest) > 0 {
		data = append(h.rest, data...)
		h.rest = nil
	}
	out := make([]byte, 0, len(data)/2)
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch h.state {
		case htmlInText:
			switch c {
			case '<':
				i += h.tagStart(data[i+1:]) - 1
			case '&':
				var n int
				out, n = htmlEntity(out, data[i+1:])
				if n == 0 {
					h.rest = append([]byte(nil), data[i:]...)
					return out
				}
				i += n - 1
			default:
				out = append(out, c)
			}
		case htmlTag:
			switch c {
			case '"':
				h.state = htmlTagDQuoted
			case '\'':
				h.state = htmlTagSQuoted
			case '>':
				h.state = htmlInText
				out = htmlSpace(out)
			}
		case htmlTagDQuoted:
			if c == '"' {
				h.state = htmlTag
			}
		case htmlTagSQuoted:
			if c == '\'' {
				h.state = htmlTag
			}
		case htmlComment:
			if c == '-' {
				h.state = htmlCommentEnd
			}
		case htmlCommentEnd:
			if c == '-' {
				h.state = htmlCommentEnd2
			} else {
				h.state = htmlComment
			}
		case htmlCommentEnd2: // "--" seen: only '>' ends ("--->" does not)
			if c == '>' {
				h.state = htmlInText
			} else {
				h.state = htmlComment
			}
		case htmlScript, htmlStyle:
			end := "</script>"
			if h.state == htmlStyle {
				end = "</style>"
			}
			if c != '<' {
				break
			}
			if len(data)-i < len(end) {
				if hasPrefixFold(end[:len(data)-i], data[i:]) {
					h.rest = append([]byte(nil), data[i:]...)
					return out
				}
				break
			}
			if hasPrefixFold(end, data[i:]) {
				h.state = htmlInText
				i += len(end) - 1
				out = htmlSpace(out)
			}
		case htmlCDATA:
			if c == ']' && bytes.HasPrefix(data[i:], []byte("]]>")) {
				h.state = htmlInText
				i += 2
				break
			}
			out = append(out, c)
		}
	}
	return out
}

// tagStart classifies what follows a '<' and returns how many bytes
// after it to skip, plus one.
func (h *htmlText) tagStart(d []byte) int {
	switch {
	case bytes.HasPrefix(d, []byte("!--")):
		h.state = htmlComment
		return 3 + 1
	case len(d) >= 8 && hasPrefixFold("![cdata[", d[:8]):
		h.state = htmlCDATA
		return 8 + 1
	case htmlTagIs(d, "script"):
		h.state = htmlScript
		return len("script") + 1
	case htmlTagIs(d, "style"):
		h.state = htmlStyle
		return len("style") + 1
	}
	h.state = htmlTag
	return 1
}

// htmlTagIs reports whether d starts with the tag name (lower case),
// ASCII case insensitively, followed by '>', '/' or whitespace
// ("<scriptx>" is another tag).
func htmlTagIs(d []byte, name string) bool {
	if len(d) <= len(name) || !hasPrefixFold(name, d) {
		return false
	}
	c := d[len(name)]
	return c == '>' || c == '/' || isCSpace(c)
}

// htmlSpace appends a space unless out ends in whitespace.
func htmlSpace(out []byte) []byte {
	if n := len(out); n > 0 && out[n-1] != ' ' && out[n-1] != '\n' {
		out = append(out, ' ')
	}
	return out
}

// htmlEntity decodes the entity name at the start of d (after '&') and
// returns how many bytes after the '&' it took, plus one; 0 when d ends
// before the ';'. A broken entity (whitespace or too long) drops only the
// '&'; an unknown one is dropped whole.
func htmlEntity(out, d []byte) ([]byte, int) {
	i := 0
	for ; i < len(d); i++ {
		if isCSpace(d[i]) || i > htmlEntityMax {
			return out, 1
		}
		if d[i] == ';' {
			break
		}
	}
	if i == len(d) {
		return out, 0
	}
	if r, ok := htmlEntityRune(string(d[:i])); ok {
		out = utf8.AppendRune(out, r)
	}
	return out, i + 2
}

// htmlEntityRune decodes an entity name: "#123", "#x1F" or a named one.
func htmlEntityRune(name string) (rune, bool) {
	if len(name) > 1 && name[0] == '#' {
		var n uint64
		var err error
		if name[1] == 'x' { // "&#X41;" is not decoded
			n, err = strconv.ParseUint(name[2:], 16, 32)
		} else {
			n, err = strconv.ParseUint(name[1:], 10, 32)
		}
		if err != nil || n == 0 || n > utf8.MaxRune || n >= 0xD800 && n <= 0xDFFF {
			return 0, false
		}
		return rune(n), true
	}
	r, ok := htmlEntities[name]
	return r, ok
}

// hasPrefixFold reports whether d starts with prefix, ASCII case
// insensitively (prefix is lower case).
func hasPrefixFold(prefix string, d []byte) bool {
	if len(d) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := d[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
