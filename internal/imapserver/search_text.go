package imapserver

import (
	"context"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"roost/internal/message"
)

// headerKind selects how a header search key sees a field's value, as
// Dovecot's index-search.c does.
type headerKind int

const (
	hdrPlain   headerKind = iota // HEADER: the decoded value
	hdrAddress                   // FROM, TO, CC, BCC: the rewritten address list
	hdrLWSP                      // SUBJECT: runs of blanks as one space
)

// fold normalises text for i;unicode-casemap-like comparison (RFC 5051:
// case folding plus compatibility decomposition). ASCII text, the common
// case, only needs lower-casing.
func fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return norm.NFKD.String(cases.Fold().String(s))
		}
	}
	return strings.ToLower(s)
}

// headerSearchValue returns the folded text a header key searches in one
// field's raw value.
func headerSearchValue(value []byte, kind headerKind) string {
	switch kind {
	case hdrAddress:
		value = []byte(writeAddresses(message.ParseAddressList(value)))
	case hdrLWSP:
		value = compressLWSP(value)
	}
	return fold(message.DecodedHeaderValue(value))
}

// compressLWSP drops leading blanks and turns every run of blanks into one
// space (Dovecot's compress_lwsp for SEARCH SUBJECT).
func compressLWSP(v []byte) []byte {
	out := make([]byte, 0, len(v))
	prevBlank := true
	for _, c := range v {
		if c == ' ' || c == '\t' {
			if !prevBlank {
				out = append(out, ' ')
			}
			prevBlank = true
			continue
		}
		prevBlank = false
		out = append(out, c)
	}
	return out
}

// writeAddresses writes an address list back as Dovecot's
// message_address_write does, which is what SEARCH FROM/TO/CC/BCC match:
// "Name <mailbox@domain>" or "mailbox@domain", ", " between addresses,
// groups as "name: a, b;". Display names stay RFC 2047-encoded here; the
// caller decodes the whole string.
func writeAddresses(addrs []message.Address) string {
	var b strings.Builder
	first, inGroup := true, false
	for _, a := range addrs {
		if !first {
			b.WriteString(", ")
		}
		first = false
		switch {
		case a.Domain == nil && !inGroup: // group start: Mailbox is its name
			writePhrase(&b, deref(a.Mailbox))
			b.WriteString(": ")
			first, inGroup = true, true
		case a.Domain == nil: // group end
			s := b.String()
			b.Reset()
			if strings.HasSuffix(s, ", ") {
				s = s[:len(s)-2]
			} else {
				s = strings.TrimSuffix(s, " ")
			}
			b.WriteString(s)
			b.WriteByte(';')
			inGroup = false
		case deref(a.Name) == "" && a.Route == nil:
			writeMaybeQuoted(&b, deref(a.Mailbox), false)
			b.WriteByte('@')
			b.WriteString(*a.Domain)
		default:
			if name := deref(a.Name); name != "" {
				writePhrase(&b, name)
				b.WriteByte(' ')
			}
			b.WriteByte('<')
			if a.Route != nil {
				b.WriteString(*a.Route)
				b.WriteByte(':')
			}
			writeMaybeQuoted(&b, deref(a.Mailbox), false)
			b.WriteByte('@')
			b.WriteString(*a.Domain)
			b.WriteByte('>')
		}
	}
	return b.String()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// writePhrase writes a display name: as is when it holds an encoded-word
// (which must not be quoted), otherwise quoted when needed.
func writePhrase(b *strings.Builder, s string) {
	if strings.Contains(s, "=?") {
		b.WriteString(s)
		return
	}
	writeMaybeQuoted(b, s, true)
}

// writeMaybeQuoted is Dovecot's str_append_maybe_escape: s as is when it
// is all atext (and dots, unless quoteDot), else quoted with '"', '\\'
// and '\” escaped.
func writeMaybeQuoted(b *strings.Builder, s string, quoteDot bool) {
	if s == "" {
		b.WriteString(`""`)
		return
	}
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = isAtext(s[i]) || (!quoteDot && s[i] == '.')
	}
	if plain {
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
}

// isAtext reports RFC 5322 atext, with 8-bit bytes counted as atext as
// Dovecot's rfc822_atext_chars does.
func isAtext(c byte) bool {
	switch {
	case c >= 0x80, c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// partText is what BODY and TEXT search in one MIME part, folded: its
// header lines ("Name: value" CRLF, decoded) and, for a leaf Dovecot
// searches, its decoded body.
type partText struct {
	header, body string
}

// searchParts returns the search text of every part, computing it once.
// As Dovecot's message_search, a body is read only for a leaf whose
// Content-Type is text/*, message/* or absent, and whose transfer
// encoding is known.
func (m *msgData) searchParts(ctx context.Context) ([]partText, error) {
	if m.parts != nil {
		return m.parts, nil
	}
	root, data, err := m.parsed(ctx)
	if err != nil {
		return nil, err
	}
	parts := []partText{}
	root.Walk(func(p *message.Part) {
		var h strings.Builder
		for _, f := range message.ParseHeader(data[p.Offset:p.BodyOffset()]) {
			h.Write(f.Name)
			h.WriteString(": ")
			h.WriteString(message.DecodedHeaderValue(f.Value))
			h.WriteString("\r\n")
		}
		pt := partText{header: fold(h.String())}
		if len(p.Children) == 0 && searchableType(p) {
			if dec, err := message.DecodeBodyPart(data, p); err == nil {
				pt.body = fold(string(dec))
			}
		}
		parts = append(parts, pt)
	})
	m.parts = parts
	return parts, nil
}

// searchableType reports whether Dovecot's message_search reads the
// part's body: Content-Type text/*, message/* or none.
func searchableType(p *message.Part) bool {
	t := p.Content.Type
	return t == nil || strings.EqualFold(*t, "text") || strings.EqualFold(*t, "message")
}

// containsAcross reports whether needle occurs in a+b without building
// the concatenation.
func containsAcross(a, b, needle string) bool {
	if strings.Contains(a, needle) || strings.Contains(b, needle) {
		return true
	}
	n := len(needle) - 1
	if n <= 0 {
		return false
	}
	joint := a[max(0, len(a)-n):] + b[:min(len(b), n)]
	return strings.Contains(joint, needle)
}
