package imap

import (
	"strconv"
	"strings"
)

// The Append* functions encode strings onto the IMAP wire the way Dovecot
// 2.3 does (RFC 3501 section 4.3 and 9, string / nstring / astring). Each
// appends to dst and returns the extended slice, like strconv.AppendInt.
// They cut their input at the first NUL byte, as Dovecot's C strings do.

// quotedMaxEscapes is how many '"' and '\' a quoted string may hold before
// Dovecot switches to a literal.
const quotedMaxEscapes = 4

// AppendNString appends NIL when s is nil, else the string as AppendString.
func AppendNString(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "NIL"...)
	}
	return AppendString(dst, *s)
}

// AppendString appends s as a quoted string, or as a literal {n}\r\n… when
// it holds CR, LF, 8-bit bytes or more than four characters to escape.
func AppendString(dst []byte, s string) []byte {
	s = cut(s)
	escapes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			escapes++
			if escapes > quotedMaxEscapes {
				return appendLiteral(dst, s)
			}
		case c == '\r' || c == '\n' || c >= 0x80:
			return appendLiteral(dst, s)
		}
	}
	return appendQuoted(dst, s)
}

// AppendNStringNoLF is AppendNString with CR and LF removed; a line break
// not followed by whitespace becomes one space.
func AppendNStringNoLF(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "NIL"...)
	}
	v := cut(*s)
	if !strings.ContainsAny(v, "\r\n") {
		return AppendString(dst, v)
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\r' && c != '\n' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(v) {
			switch v[i+1] {
			case ' ', '\t', '\r', '\n':
			default:
				b.WriteByte(' ')
			}
		}
	}
	return AppendString(dst, b.String())
}

// AppendAString appends s as an atom when it can be one, else as a string.
func AppendAString(dst []byte, s string) []byte {
	s = cut(s)
	if s == "" || strings.EqualFold(s, "NIL") {
		return AppendString(dst, s)
	}
	for i := 0; i < len(s); i++ {
		if !isAStringChar(s[i]) {
			return AppendString(dst, s)
		}
	}
	return append(dst, s...)
}

// AppendHumanString appends text meant for people (ENVELOPE subjects and
// display names) as Dovecot does: runs of whitespace, CR and LF become one
// space, leading and trailing whitespace goes; the result
// is quoted when nothing had to change, else a literal.
func AppendHumanString(dst []byte, s string) []byte {
	s = cut(s)
	modify, lastLWSP, wsPrefix := false, true, true
	remove := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r', '\n', '\t', ' ':
			if c != ' ' {
				modify = true
			}
			if lastLWSP {
				modify = true
				remove++
			}
			lastLWSP = true
		case '"', '\\':
			modify = true
			lastLWSP = false
		default:
			if c >= 0x80 {
				modify = true
			}
			lastLWSP = false
		}
		if !lastLWSP {
			wsPrefix = false
		}
	}
	if lastLWSP && len(s) > 0 && !wsPrefix {
		modify = true
		remove++
	}
	if !modify {
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	}
	if remove == len(s) {
		return append(dst, `""`...)
	}
	dst = appendLiteralHeader(dst, len(s)-remove)
	start := len(dst)
	lastLWSP, wsPrefix = true, true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r', '\n', '\t', ' ':
			if !lastLWSP {
				dst = append(dst, ' ')
			}
			lastLWSP = true
		default:
			lastLWSP = false
			dst = append(dst, c)
		}
		if !lastLWSP {
			wsPrefix = false
		}
	}
	if lastLWSP && len(dst) > start && !wsPrefix {
		dst = dst[:len(dst)-1]
	}
	return dst
}

func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\r' || c == '\n' || c >= 0x80:
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

func appendLiteral(dst []byte, s string) []byte {
	return append(appendLiteralHeader(dst, len(s)), s...)
}

func appendLiteralHeader(dst []byte, n int) []byte {
	dst = append(dst, '{')
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, "}\r\n"...)
}

func isAStringChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !strings.ContainsRune(`(){%*"\`, rune(c))
}

func cut(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
