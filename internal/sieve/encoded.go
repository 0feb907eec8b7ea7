package sieve

import (
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
		n, err := strconv.ParseUint(f, 16, 32)
		if err != nil || len(f) > 8 {
			return "", false, ""
		}
		if n > 0x10FFFF || n >= 0xD800 && n <= 0xDFFF {
			return "", false, "invalid unicode character 0x" + f + " in encoded character substitution"
		}
		b.WriteRune(rune(n))
	}
	_ = utf8.RuneError
	return b.String(), true, ""
}
