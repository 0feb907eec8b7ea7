package maildir

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Modified UTF-7 for mailbox names on disk (RFC 3501 section 5.1.3). This
// is a private codec until package imap provides one.

var b64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

var errUTF7 = errors.New("invalid modified UTF-7")

// utf7Encode encodes a UTF-8 string as modified UTF-7.
func utf7Encode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x20 && r <= 0x7e {
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteRune(r)
			}
			i += size
			continue
		}
		j := i
		var units []uint16
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if r >= 0x20 && r <= 0x7e {
				break
			}
			units = append(units, utf16.Encode([]rune{r})...)
			j += size
		}
		buf := make([]byte, 2*len(units))
		for k, u := range units {
			buf[2*k] = byte(u >> 8)
			buf[2*k+1] = byte(u)
		}
		b.WriteByte('&')
		b.WriteString(b64.EncodeToString(buf))
		b.WriteByte('-')
		i = j
	}
	return b.String()
}

// utf7Decode decodes modified UTF-7 into UTF-8.
func utf7Decode(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", errUTF7
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return "", errUTF7
		}
		enc := s[i+1 : i+1+j]
		i += j + 1
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := b64.DecodeString(enc)
		if err != nil || len(raw)%2 != 0 {
			return "", errUTF7
		}
		units := make([]uint16, len(raw)/2)
		for k := range units {
			units[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
		}
		for _, r := range utf16.Decode(units) {
			if r == utf8.RuneError || (r >= 0x20 && r <= 0x7e) {
				return "", errUTF7
			}
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}
