package sieve

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeEncodedCharacters expands ${hex:..} and ${unicode:..} (RFC 5228
// section 2.4.2.4). Malformed sequences are left as they are; an invalid
// code point is an error.
func decodeEncodedCharacters(s string) (string, string) {
	if !strings.Contains(s, "${") {
		return s, ""
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), ""
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		colon := strings.IndexByte(rest, ':')
		if j < 0 || colon < 0 || colon > j {
			b.WriteString("${")
			s = rest
			continue
		}
		kind := strings.ToLower(strings.TrimSpace(rest[:colon]))
		body := rest[colon+1 : j]
		out, ok, bad := decodeEncoded(kind, body)
		if bad != "" {
			return s, bad
		}
		if !ok {
			b.WriteString("${")
			s = rest
			continue
		}
		b.WriteString(out)
		s = rest[j+1:]
	}
}

// hex32 parses hex digits into a 32-bit accumulator that wraps on
// overflow, as Pigeonhole's does (its errors show the wrapped value).
func hex32(s string) (uint32, bool) {
	var n uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | uint32(d)
	}
	return n, true
}

func decodeEncoded(kind, body string) (string, bool, string) {
	if kind != "hex" && kind != "unicode" {
		return "", false, ""
	}
	fields := strings.FieldsFunc(body, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	if len(fields) == 0 {
		return "", false, "" // "${hex:}" stays literal
	}
	var b strings.Builder
	for _, f := range fields {
		if kind == "hex" {
			if len(f) > 2 && strings.TrimLeft(f, "0") != "" && len(strings.TrimLeft(f, "0")) > 2 {
				return "", false, ""
			}
			n, err := strconv.ParseUint(f, 16, 8)
			if err != nil {
				return "", false, ""
			}
			b.WriteByte(byte(n))
			continue
		}
		n, ok := hex32(f)
		if !ok {
			return "", false, ""
		}
		if n > 0x10FFFF || n >= 0xD800 && n <= 0xDFFF {
			return "", false, fmt.Sprintf("invalid unicode character 0x%08x in encoded character substitution", n)
		}
		b.WriteRune(rune(n))
	}
	_ = utf8.RuneError
	return b.String(), true, ""
}
