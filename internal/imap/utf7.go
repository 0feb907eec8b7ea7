package imap

import (
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrBadUTF7 is returned by DecodeMailbox for a name that is not valid
// modified UTF-7.
var ErrBadUTF7 = errors.New("mailbox name is not valid mUTF-7")

const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,"

// EncodeMailbox encodes a UTF-8 mailbox name in modified UTF-7 (RFC 3501
// section 5.1.3). Invalid UTF-8 bytes are encoded as U+FFFD.
func EncodeMailbox(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c <= 0x7e {
			b.WriteByte(c)
			if c == '&' {
				b.WriteByte('-')
			}
			i++
			continue
		}
		j := i
		for j < len(s) && (s[j] < 0x20 || s[j] > 0x7e) {
			_, n := utf8.DecodeRuneInString(s[j:])
			j += n
		}
		b.WriteByte('&')
		encodeB64(&b, []rune(s[i:j]))
		b.WriteByte('-')
		i = j
	}
	return b.String()
}

func encodeB64(b *strings.Builder, runes []rune) {
	var bits uint32
	var n uint
	for _, u := range utf16.Encode(runes) {
		bits = bits<<16 | uint32(u)
		n += 16
		for n >= 6 {
			n -= 6
			b.WriteByte(b64[(bits>>n)&0x3f])
		}
	}
	if n > 0 {
		b.WriteByte(b64[(bits<<(6-n))&0x3f])
	}
}

// DecodeMailbox decodes a modified UTF-7 mailbox name into UTF-8. It
// rejects non-ASCII bytes, empty or unterminated shifts, encoded printable
// ASCII, adjacent shifts, bad surrogates and non-zero padding bits.
func DecodeMailbox(s string) (string, error) {
	var b strings.Builder
	prevShift := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", ErrBadUTF7
		}
		if c != '&' {
			b.WriteByte(c)
			i++
			prevShift = false
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", ErrBadUTF7
		}
		enc := s[i+1 : i+1+end]
		i += end + 2
		if enc == "" {
			b.WriteByte('&')
			prevShift = false
			continue
		}
		if prevShift {
			return "", ErrBadUTF7
		}
		if err := decodeB64(&b, enc); err != nil {
			return "", err
		}
		prevShift = true
	}
	return b.String(), nil
}

func decodeB64(b *strings.Builder, enc string) error {
	var bits uint32
	var n uint
	var units []uint16
	for i := 0; i < len(enc); i++ {
		v := strings.IndexByte(b64, enc[i])
		if v < 0 {
			return ErrBadUTF7
		}
		bits = bits<<6 | uint32(v)
		n += 6
		if n >= 16 {
			n -= 16
			units = append(units, uint16(bits>>n))
		}
	}
	if n >= 6 || bits&(1<<n-1) != 0 || len(units) == 0 {
		return ErrBadUTF7
	}
	for i := 0; i < len(units); i++ {
		u := units[i]
		var r rune
		switch {
		case utf16.IsSurrogate(rune(u)):
			if u >= 0xdc00 || i+1 >= len(units) {
				return ErrBadUTF7
			}
			r = utf16.DecodeRune(rune(u), rune(units[i+1]))
			if r == utf8.RuneError {
				return ErrBadUTF7
			}
			i++
		case u >= 0x20 && u <= 0x7e:
			return ErrBadUTF7 // printable ASCII must be sent as itself
		default:
			r = rune(u)
		}
		b.WriteRune(r)
	}
	return nil
}
