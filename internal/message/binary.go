package message

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrInvalidEncoding reports base64 or quoted-printable content that a
// strict decoder refuses (IMAP BINARY answers "NO [PARSE] Invalid data in
// MIME part", as Dovecot does).
var ErrInvalidEncoding = errors.New("invalid data in MIME part")

// ErrTruncatedEncoding reports base64 content that ends in the middle of
// a quantum or its padding. Dovecot 2.3 ends the IMAP session on it
// ("Base64 data ends prematurely"); roost answers NO [PARSE] instead.
var ErrTruncatedEncoding = fmt.Errorf("%w: base64 data ends prematurely", ErrInvalidEncoding)

// DecodePartBinary returns the body of part (a part of msg, the bytes
// Parse was given) with its Content-Transfer-Encoding undone and nothing
// else changed: the content of IMAP BINARY[part] (RFC 3516). It decodes
// strictly, as Dovecot's binary fetch does: ErrUnknownCTE for an unknown
// encoding, ErrInvalidEncoding (or ErrTruncatedEncoding) for broken
// base64 or quoted-printable.
func DecodePartBinary(msg []byte, part *Part) ([]byte, error) {
	if part.End() > int64(len(msg)) || part.Offset < 0 || part.BodyOffset() > part.End() {
		return nil, fmt.Errorf("decode binary part: part outside message")
	}
	enc, ok := partCTE(msg[part.Offset:part.BodyOffset()])
	if !ok {
		return nil, fmt.Errorf("decode binary part: %w", ErrUnknownCTE)
	}
	body := msg[part.BodyOffset():part.End()]
	switch enc {
	case "base64":
		return decodeBase64Strict(body)
	case "quoted-printable":
		return decodeQPStrict(body)
	}
	return body, nil
}

// BinarySection returns the content of IMAP BINARY[part] as Dovecot 2.3
// builds it: a leaf's body decoded by DecodePartBinary; for a multipart
// or message/rfc822 part, its body with every nested leaf decoded and,
// where a leaf was base64 or quoted-printable, its
// Content-Transfer-Encoding field replaced by "binary". As in Dovecot,
// a part that cannot be decoded anywhere in the message fails the whole
// fetch (the message is checked from root). A nil part is the whole
// message (BINARY[]): root's header, rewritten the same way, then its
// binary body.
func BinarySection(msg []byte, root, part *Part) ([]byte, error) {
	var firstErr error
	root.Walk(func(p *Part) {
		if firstErr == nil && len(p.Children) == 0 && !p.Is(FlagMultipart) {
			_, firstErr = DecodePartBinary(msg, p)
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if part != nil {
		return binaryBody(msg, part)
	}
	hdr := msg[root.Offset:root.BodyOffset()]
	var out []byte
	if enc, _ := partCTE(hdr); len(root.Children) == 0 && (enc == "base64" || enc == "quoted-printable") {
		out = appendBinaryHeader(nil, hdr)
	} else {
		out = append([]byte(nil), hdr...)
	}
	body, err := binaryBody(msg, root)
	if err != nil {
		return nil, err
	}
	return append(out, body...), nil
}

func binaryBody(msg []byte, p *Part) ([]byte, error) {
	if len(p.Children) == 0 {
		return DecodePartBinary(msg, p)
	}
	var out []byte
	pos := p.BodyOffset()
	for _, c := range p.Children {
		out = append(out, msg[pos:c.Offset]...)
		hdr := msg[c.Offset:c.BodyOffset()]
		if enc, _ := partCTE(hdr); len(c.Children) == 0 && (enc == "base64" || enc == "quoted-printable") {
			out = appendBinaryHeader(out, hdr)
		} else {
			out = append(out, hdr...)
		}
		b, err := binaryBody(msg, c)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
		pos = c.End()
	}
	return append(out, msg[pos:p.End()]...), nil
}

// appendBinaryHeader appends header with each Content-Transfer-Encoding
// field (with its continuation lines) replaced by
// "Content-Transfer-Encoding: binary".
func appendBinaryHeader(out, header []byte) []byte {
	skipping := false
	for len(header) > 0 {
		n := bytes.IndexByte(header, '\n') + 1
		if n == 0 {
			n = len(header)
		}
		line := header[:n]
		header = header[n:]
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') && skipping {
			continue
		}
		skipping = len(line) > 26 && bytes.EqualFold(line[:26], []byte("Content-Transfer-Encoding:"))
		if skipping {
			out = append(out, "Content-Transfer-Encoding: binary\r\n"...)
			continue
		}
		out = append(out, line...)
	}
	return out
}

// base64Value maps the base64 alphabet to 0-63 and everything else to 0xff.
var base64Value = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

func isBase64Space(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// decodeBase64Strict decodes RFC 2045 base64 as Dovecot 2.3's decoder
// does: whitespace is skipped; any other byte outside the alphabet,
// padding in the wrong place or data after the padding is invalid; input
// that stops inside a quantum is truncated.
func decodeBase64Strict(src []byte) ([]byte, error) {
	out := make([]byte, 0, len(src)*3/4)
	var quantum [4]byte
	n, pad := 0, 0
	for i, c := range src {
		switch {
		case isBase64Space(c):
			continue
		case pad > 0 && n == 0: // a complete quantum ended with padding
			return nil, fmt.Errorf("base64 data after padding at %d: %w", i, ErrInvalidEncoding)
		case c == '=':
			if n < 2 {
				return nil, fmt.Errorf("base64 padding at %d: %w", i, ErrInvalidEncoding)
			}
			pad++
			if n++; n == 4 {
				out = appendQuantum(out, quantum, pad)
				n = 0
			}
		case pad > 0 || base64Value[c] == 0xff:
			return nil, fmt.Errorf("base64 byte 0x%02x at %d: %w", c, i, ErrInvalidEncoding)
		default:
			quantum[n] = base64Value[c]
			if n++; n == 4 {
				out = appendQuantum(out, quantum, 0)
				n = 0
			}
		}
	}
	if n != 0 {
		return nil, ErrTruncatedEncoding
	}
	return out, nil
}

func appendQuantum(out []byte, q [4]byte, pad int) []byte {
	v := uint32(q[0])<<18 | uint32(q[1])<<12 | uint32(q[2])<<6 | uint32(q[3])
	b := []byte{byte(v >> 16), byte(v >> 8), byte(v)}
	return append(out, b[:3-pad]...)
}

// decodeQPStrict decodes quoted-printable (RFC 2045 section 6.7) and
// refuses what Dovecot's qp-decoder reports as errors: "=" not followed
// by two hex digits or by blanks and a line break.
func decodeQPStrict(src []byte) ([]byte, error) {
	out := make([]byte, 0, len(src))
	start := 0 // where the current output line began
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c == '\n' || c == '\r' && i+1 < len(src) && src[i+1] == '\n' {
			out = trimBlanks(out, start) // transport padding (RFC 2045 section 6.7 rule 3)
		}
		if c == '\n' {
			start = len(out) + 1
		}
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+2 < len(src) && isHex(src[i+1]) && isHex(src[i+2]) {
			out = append(out, unhex(src[i+1])<<4|unhex(src[i+2]))
			i, start = i+2, len(out) // an encoded blank is not padding
			continue
		}
		j := i + 1 // soft line break: "=" *blank CRLF
		for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
			j++
		}
		if j < len(src) && src[j] == '\r' {
			j++
		}
		if j < len(src) && src[j] == '\n' {
			i, start = j, len(out)
			continue
		}
		return nil, fmt.Errorf("quoted-printable '=' at %d: %w", i, ErrInvalidEncoding)
	}
	return trimBlanks(out, start), nil
}

// trimBlanks drops the spaces and tabs at the end of out, down to start.
func trimBlanks(out []byte, start int) []byte {
	for len(out) > start && (out[len(out)-1] == ' ' || out[len(out)-1] == '\t') {
		out = out[:len(out)-1]
	}
	return out
}
