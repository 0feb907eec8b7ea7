package syntax

import (
	"fmt"
	"strings"
)

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokTag
	tokNumber
	tokString
	tokLBracket
	tokRBracket
	tokLParen
	tokRParen
	tokLBrace
	tokRBrace
	tokComma
	tokSemicolon
	tokError // lexer already reported the problem
	tokGarbage
)

type token struct {
	kind tokKind
	pos  Pos
	text string // identifier, tag name, string value, garbage
	num  uint64
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of script"
	case tokIdent:
		return fmt.Sprintf("identifier '%s'", t.text)
	case tokTag:
		return fmt.Sprintf("tag ':%s'", t.text)
	case tokNumber:
		return fmt.Sprintf("number %d", t.num)
	case tokString:
		return "string"
	case tokLBracket:
		return "'['"
	case tokRBracket:
		return "']'"
	case tokLParen:
		return "'('"
	case tokRParen:
		return "')'"
	case tokLBrace:
		return "'{'"
	case tokRBrace:
		return "'}'"
	case tokComma:
		return "','"
	case tokSemicolon:
		return "';'"
	default:
		return "unknown characters"
	}
}

// lexer turns script bytes into tokens. Errors go to errs.
type lexer struct {
	src  string
	off  int
	line int
	col  int
	errs *ErrorList
}

func (l *lexer) errorf(p Pos, format string, args ...any) {
	*l.errs = append(*l.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (l *lexer) peekc(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

func (l *lexer) advance() byte {
	c := l.src[l.off]
	l.off++
	if c == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return c
}

func (l *lexer) pos() Pos { return Pos{Line: l.line, Col: l.col} }

// skipSpace skips white space and comments.
func (l *lexer) skipSpace() {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance()
		case c == '#':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance()
			}
		case c == '/' && l.peekc(1) == '*':
			p := l.pos()
			l.advance()
			l.advance()
			for {
				if l.off >= len(l.src) {
					l.errorf(p, "end of file before end of bracket comment ('*/') started at line %d", p.Line)
					return
				}
				if l.src[l.off] == '*' && l.peekc(1) == '/' {
					l.advance()
					l.advance()
					break
				}
				l.advance()
			}
		default:
			return
		}
	}
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) next() token {
	l.skipSpace()
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: p}
	}
	c := l.src[l.off]
	single := map[byte]tokKind{'[': tokLBracket, ']': tokRBracket, '(': tokLParen, ')': tokRParen,
		'{': tokLBrace, '}': tokRBrace, ',': tokComma, ';': tokSemicolon}
	if k, ok := single[c]; ok {
		l.advance()
		return token{kind: k, pos: p}
	}
	switch {
	case c == '"':
		return l.quoted(p)
	case isDigit(c):
		return l.number(p)
	case c == ':':
		l.advance()
		if l.off >= len(l.src) || !isAlpha(l.src[l.off]) {
			l.errorf(p, "missing identifier after ':'")
			return token{kind: tokError, pos: p}
		}
		id := l.ident()
		if len(id) > MaxIdentifierLen {
			l.errorf(p, "encountered impossibly long tag identifier ':%s...'", id[:29])
			return token{kind: tokError, pos: p}
		}
		return token{kind: tokTag, pos: p, text: id}
	case isAlpha(c):
		id := l.ident()
		if id == "text" && l.peekc(0) == ':' {
			l.advance()
			return l.multiline(p)
		}
		if len(id) > MaxIdentifierLen {
			l.errorf(p, "encountered impossibly long identifier '%s...'", id[:29]) // str_sanitize(id, 32)
			return token{kind: tokError, pos: p}
		}
		return token{kind: tokIdent, pos: p, text: id}
	}
	l.advance()
	return token{kind: tokGarbage, pos: p, text: string(c)}
}

func (l *lexer) ident() string {
	start := l.off
	for l.off < len(l.src) && (isAlpha(l.src[l.off]) || isDigit(l.src[l.off])) {
		l.advance()
	}
	return l.src[start:l.off]
}

func (l *lexer) number(p Pos) token {
	var n uint64
	overflow := false
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		d := uint64(l.advance() - '0')
		if n > (^uint64(0)-d)/10 {
			overflow = true
		}
		n = n*10 + d
	}
	shift := uint(0)
	switch l.peekc(0) {
	case 'k', 'K':
		shift = 10
	case 'm', 'M':
		shift = 20
	case 'g', 'G':
		shift = 30
	}
	if shift > 0 {
		l.advance()
		if n > ^uint64(0)>>shift {
			overflow = true
		}
		n <<= shift
	}
	if overflow {
		l.errorf(p, "number exceeds integer limits (max %d)", ^uint64(0))
		return token{kind: tokError, pos: p}
	}
	return token{kind: tokNumber, pos: p, num: n}
}

func (l *lexer) quoted(p Pos) token {
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			l.errorf(p, "end of file before end of quoted string")
			return token{kind: tokError, pos: p}
		}
		c := l.advance()
		switch c {
		case '"':
			return l.stringTok(p, b.String())
		case '\\':
			if l.off < len(l.src) {
				b.WriteByte(l.advance())
			}
		case '\r':
			if l.peekc(0) == '\n' {
				continue // CRLF is kept as LF's partner below
			}
			b.WriteByte(c)
		case '\n':
			b.WriteString("\r\n")
		default:
			b.WriteByte(c)
		}
	}
}

func (l *lexer) stringTok(p Pos, s string) token {
	if len(s) > MaxStringLen {
		l.errorf(p, "string is too long (maximum is %d bytes)", MaxStringLen)
		return token{kind: tokError, pos: p}
	}
	return token{kind: tokString, pos: p, text: s}
}

// multiline reads the rest of a text: string (RFC 5228 section 2.4.2).
func (l *lexer) multiline(p Pos) token {
	for l.off < len(l.src) && (l.src[l.off] == ' ' || l.src[l.off] == '\t') {
		l.advance()
	}
	if l.peekc(0) == '#' {
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance()
		}
	}
	if l.peekc(0) == '\r' {
		l.advance()
	}
	if l.peekc(0) != '\n' {
		l.errorf(p, "invalid character '%s' after 'text:' in multiline string", printable(l.peekc(0)))
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance()
		}
	}
	if l.off < len(l.src) {
		l.advance()
	}
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			l.errorf(p, "end of file before end of multi-line string")
			return token{kind: tokError, pos: p}
		}
		start := l.off
		for l.off < len(l.src) && l.src[l.off] != '\n' {
			l.advance()
		}
		line := strings.TrimSuffix(l.src[start:l.off], "\r")
		if l.off < len(l.src) {
			l.advance()
		}
		if line == "." {
			return l.stringTok(p, b.String())
		}
		if strings.HasPrefix(line, "..") {
			line = line[1:] // dot-unstuffing (RFC 5228 section 2.4.2)
		}
		b.WriteString(line)
		b.WriteString("\r\n")
	}
}

func printable(c byte) string {
	if c == 0 {
		return "end of file"
	}
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("\\x%02x", c)
	}
	return string(c)
}
