package message

// This file holds the RFC 5322 / RFC 2045 lexical layer: atoms, MIME tokens,
// quoted strings, comments, phrases and domains, with Dovecot 2.3's tolerance
// for broken input. Every method returns 1 when more input follows, 0 at the
// end of input and -1 on a syntax error, so callers can mirror Dovecot's
// control flow exactly.

// nulReplacement is what a NUL byte inside a quoted string, comment or domain
// literal of an address header becomes (U+FFFD, as Dovecot does).
const nulReplacement = "\uFFFD"

// atext classes: 1 = atext, 2 = alphanumeric or 8-bit, 4 = atext but MIME tspecial.
var atextClass = func() [256]byte {
	var t [256]byte
	for c := 0; c < 256; c++ {
		switch {
		case c >= 0x80, c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			t[c] = 2
		}
	}
	for _, c := range []byte("!#$%&'*+-^_`{|}~") {
		t[c] = 1
	}
	for _, c := range []byte("/=?") {
		t[c] = 4
	}
	return t
}()

func isAtext(c byte) bool            { return atextClass[c] != 0 }
func isAtextNonTspecial(c byte) bool { return atextClass[c]&3 != 0 }
func isLWSP(c byte) bool             { return c == ' ' || c == '\t' }

type rfcParser struct {
	data []byte
	pos  int
	// comment, when non-nil, collects the text of the last comment skipped.
	comment *[]byte
	// nulRepl, when set, replaces NUL bytes in quoted strings and comments.
	nulRepl string
}

func (p *rfcParser) more() bool { return p.pos < len(p.data) }

// cur returns the current byte, or 0 at the end of input (Dovecot reads the
// NUL terminator there).
func (p *rfcParser) cur() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

func (p *rfcParser) status() int {
	if p.pos < len(p.data) {
		return 1
	}
	return 0
}

func (p *rfcParser) skipComment() int {
	level := 1
	if p.comment != nil {
		*p.comment = (*p.comment)[:0]
	}
	p.pos++
	start := p.pos
	for ; p.pos < len(p.data); p.pos++ {
		switch p.data[p.pos] {
		case 0:
			if p.comment != nil && p.nulRepl != "" {
				*p.comment = append(*p.comment, p.data[start:p.pos]...)
				*p.comment = append(*p.comment, p.nulRepl...)
				start = p.pos + 1
			}
		case '(':
			level++
		case ')':
			level--
			if level == 0 {
				if p.comment != nil {
					*p.comment = append(*p.comment, p.data[start:p.pos]...)
				}
				p.pos++
				return p.status()
			}
		case '\n':
			if p.comment == nil {
				break
			}
			n := p.pos
			if n > start && p.data[n-1] == '\r' {
				n--
			}
			*p.comment = append(*p.comment, p.data[start:n]...)
			start = p.pos + 1
		case '\\':
			p.pos++
			if p.pos >= len(p.data) {
				return -1
			}
			c := p.data[p.pos]
			if c == '\r' || c == '\n' || c == 0 {
				p.pos--
				break
			}
			if p.comment != nil {
				*p.comment = append(*p.comment, p.data[start:p.pos-1]...)
			}
			start = p.pos
		}
	}
	return -1
}

func (p *rfcParser) skipLWSP() int {
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			p.pos++
			continue
		}
		if c != '(' {
			break
		}
		if p.skipComment() < 0 {
			return -1
		}
	}
	return p.status()
}

func (p *rfcParser) parseAtom(dst *[]byte) int {
	if p.pos >= len(p.data) || !isAtext(p.data[p.pos]) {
		return -1
	}
	start := p.pos
	for p.pos++; p.pos < len(p.data); p.pos++ {
		if !isAtext(p.data[p.pos]) {
			*dst = append(*dst, p.data[start:p.pos]...)
			return p.skipLWSP()
		}
	}
	*dst = append(*dst, p.data[start:]...)
	return 0
}

func (p *rfcParser) parseDotAtom(dst *[]byte) int {
	if p.pos >= len(p.data) || !isAtext(p.data[p.pos]) {
		return -1
	}
	start := p.pos
	for p.pos++; p.pos < len(p.data); {
		if isAtext(p.data[p.pos]) {
			p.pos++
			continue
		}
		if start == p.pos {
			return -1
		}
		*dst = append(*dst, p.data[start:p.pos]...)
		if ret := p.skipLWSP(); ret <= 0 {
			return ret
		}
		if p.data[p.pos] != '.' {
			return 1
		}
		p.pos++
		*dst = append(*dst, '.')
		if p.skipLWSP() <= 0 {
			return -1
		}
		start = p.pos
	}
	*dst = append(*dst, p.data[start:]...)
	return 0
}

func (p *rfcParser) parseMIMEToken(dst *[]byte) int {
	start := p.pos
	for ; p.pos < len(p.data); p.pos++ {
		c := p.data[p.pos]
		if isAtextNonTspecial(c) || c == '.' {
			continue
		}
		*dst = append(*dst, p.data[start:p.pos]...)
		return p.skipLWSP()
	}
	*dst = append(*dst, p.data[start:]...)
	return 0
}

func (p *rfcParser) parseQuotedString(dst *[]byte) int {
	p.pos++
	start := p.pos
	for ; p.pos < len(p.data); p.pos++ {
		switch p.data[p.pos] {
		case 0:
			if p.nulRepl != "" {
				*dst = append(*dst, p.data[start:p.pos]...)
				*dst = append(*dst, p.nulRepl...)
				start = p.pos + 1
			}
		case '"':
			*dst = append(*dst, p.data[start:p.pos]...)
			p.pos++
			return p.skipLWSP()
		case '\n':
			n := p.pos
			if n > start && p.data[n-1] == '\r' {
				n--
			}
			*dst = append(*dst, p.data[start:n]...)
			start = p.pos + 1
		case '\\':
			p.pos++
			if p.pos >= len(p.data) {
				return -1
			}
			c := p.data[p.pos]
			if c == '\r' || c == '\n' || c == 0 {
				p.pos--
				break
			}
			*dst = append(*dst, p.data[start:p.pos-1]...)
			start = p.pos
		}
	}
	return -1
}

func (p *rfcParser) parseAtomOrDot(dst *[]byte) int {
	start := p.pos
	for ; p.pos < len(p.data); p.pos++ {
		c := p.data[p.pos]
		if isAtext(c) || c == '.' {
			continue
		}
		*dst = append(*dst, p.data[start:p.pos]...)
		return p.skipLWSP()
	}
	*dst = append(*dst, p.data[start:]...)
	return 0
}

func (p *rfcParser) parsePhrase(dst *[]byte) int {
	if p.pos >= len(p.data) {
		return 0
	}
	if p.data[p.pos] == '.' {
		return -1
	}
	for {
		var ret int
		if p.data[p.pos] == '"' {
			ret = p.parseQuotedString(dst)
		} else {
			ret = p.parseAtomOrDot(dst)
		}
		if ret <= 0 {
			return ret
		}
		c := p.data[p.pos]
		if !isAtext(c) && c != '"' && c != '.' {
			break
		}
		*dst = append(*dst, ' ')
	}
	return p.skipLWSP()
}

func (p *rfcParser) parseDomainLiteral(dst *[]byte) int {
	start := p.pos
	for p.pos++; p.pos < len(p.data); p.pos++ {
		switch p.data[p.pos] {
		case 0:
			if p.nulRepl != "" {
				*dst = append(*dst, p.data[start:p.pos]...)
				*dst = append(*dst, p.nulRepl...)
				start = p.pos + 1
			}
		case '[':
			return -1
		case ']':
			*dst = append(*dst, p.data[start:p.pos+1]...)
			p.pos++
			return p.skipLWSP()
		case '\n':
			n := p.pos
			if n > start && p.data[n-1] == '\r' {
				n--
			}
			*dst = append(*dst, p.data[start:n]...)
			start = p.pos + 1
		case '\\':
			p.pos++
			if p.pos >= len(p.data) {
				return -1
			}
			c := p.data[p.pos]
			if c == '\r' || c == '\n' || c == 0 {
				*dst = append(*dst, p.data[start:p.pos]...)
				start = p.pos
				p.pos--
			}
		}
	}
	return -1
}

// parseDomain parses "@" domain; the current byte must be '@'.
func (p *rfcParser) parseDomain(dst *[]byte) int {
	p.pos++
	if p.skipLWSP() <= 0 {
		return -1
	}
	if p.data[p.pos] == '[' {
		return p.parseDomainLiteral(dst)
	}
	return p.parseDotAtom(dst)
}

// parseContentType parses type "/" subtype. On a broken value it returns -1
// and leaves in dst whatever Dovecot keeps (possibly only the main type).
func (p *rfcParser) parseContentType(dst *[]byte) int {
	start := len(*dst)
	if p.skipLWSP() <= 0 {
		return -1
	}
	if p.parseMIMEToken(dst) <= 0 || len(*dst) == start {
		return -1
	}
	if p.cur() != '/' {
		*dst = (*dst)[:start]
		return -1
	}
	p.pos++
	if p.skipLWSP() <= 0 {
		*dst = (*dst)[:start]
		return -1
	}
	*dst = append(*dst, '/')
	sub := len(*dst)
	ret := p.parseMIMEToken(dst)
	if ret < 0 || len(*dst) == sub || (p.more() && p.data[p.pos] != ';') {
		*dst = (*dst)[:start]
		return -1
	}
	return ret
}

// parseContentParam parses one ";" key "=" value. It returns 1 with key and
// value set, 0 at the end of input, -1 on broken input.
func (p *rfcParser) parseContentParam() (key, value []byte, ret int) {
	if p.pos >= len(p.data) {
		return nil, nil, 0
	}
	if p.data[p.pos] != ';' {
		return nil, nil, -1
	}
	p.pos++
	if p.skipLWSP() <= 0 {
		return nil, nil, -1
	}
	if p.parseMIMEToken(&key) <= 0 {
		return nil, nil, -1
	}
	if p.cur() != '=' {
		return nil, nil, -1
	}
	p.pos++
	value = []byte{}
	if ret = p.skipLWSP(); ret <= 0 {
		// broken or no value
	} else if p.data[p.pos] == '"' {
		ret = p.parseQuotedString(&value)
	} else if p.data[p.pos] == '=' {
		// workaround for name==?utf-8?b?...?=
		for p.pos < len(p.data) {
			c := p.data[p.pos]
			if c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				break
			}
			value = append(value, c)
			p.pos++
		}
	} else {
		ret = p.parseMIMEToken(&value)
	}
	if ret < 0 {
		return key, value, -1
	}
	return key, value, 1
}
