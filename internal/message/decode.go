package message

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// MaxDecodedSize bounds the output of DecodeBodyPart.
const MaxDecodedSize = 64 << 20

// ToUTF8 converts text in the named charset to valid UTF-8. Unknown
// charsets are treated as UTF-8 (US-ASCII and UTF-8 need no conversion);
// invalid sequences become U+FFFD.
func ToUTF8(charset string, text []byte) string {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if isGB2312(cs) {
		return decodeGB2312(text)
	}
	if isLatin1(cs) {
		text, _ = charmap.ISO8859_1.NewDecoder().Bytes(text)
	} else if cs != "" && cs != "us-ascii" && cs != "utf-8" && cs != "utf8" && !iconvLacks(cs) {
		if enc := lookupCharset(cs); enc != nil {
			if out, _, err := transform.Bytes(enc.NewDecoder(), text); err == nil {
				text = out
			}
		}
	}
	return strings.ToValidUTF8(string(text), "\uFFFD")
}

// isGB2312 reports the labels glibc's iconv reads as strict GB2312
// (EUC-CN). golang.org/x/text follows WHATWG and decodes them as GBK,
// which would find characters Dovecot cannot see.
func isGB2312(cs string) bool {
	return cs == "gb2312" || cs == "csgb2312" || cs == "euc-cn" || cs == "euccn"
}

// isLatin1 reports the labels of ISO-8859-1. glibc's iconv maps bytes
// 0x80-0x9F to the C1 controls; golang.org/x/text follows WHATWG and reads
// them as windows-1252, which Dovecot does not.
func isLatin1(cs string) bool {
	switch cs {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "latin1", "l1",
		"cp819", "ibm819", "iso-ir-100", "csisolatin1", "8859_1", "iso88591":
		return true
	}
	return false
}

// iconvLacks reports labels that WHATWG knows but glibc's iconv does not:
// Dovecot takes such text as UTF-8.
func iconvLacks(cs string) bool {
	return cs == "ks_c_5601-1987"
}

// decodeGB2312 decodes EUC-CN: ASCII, and byte pairs in 0xA1-0xFE whose
// lead is at most 0xF7. Anything else becomes U+FFFD and skips one byte,
// as Dovecot does on an iconv conversion error.
func decodeGB2312(text []byte) string {
	dec := simplifiedchinese.GBK.NewDecoder()
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c < 0x80 {
			b.WriteByte(c)
			continue
		}
		if c >= 0xA1 && c <= 0xF7 && i+1 < len(text) && text[i+1] >= 0xA1 && text[i+1] <= 0xFE {
			if out, err := dec.Bytes(text[i : i+2]); err == nil && utf8.Valid(out) && !bytes.ContainsRune(out, utf8.RuneError) {
				b.Write(out)
				i++
				continue
			}
		}
		b.WriteRune(utf8.RuneError)
	}
	return b.String()
}

func lookupCharset(name string) encoding.Encoding {
	if enc, err := htmlindex.Get(name); err == nil && enc != nil {
		return enc
	}
	if enc, err := ianaindex.MIME.Encoding(name); err == nil && enc != nil {
		return enc
	}
	return nil
}

// DecodedHeaderValue unfolds a header value and decodes its RFC 2047
// encoded-words into UTF-8 (RFC 2047 section 6.2: whitespace between two
// encoded-words is dropped). Malformed encoded-words are kept as they are;
// raw 8-bit text is taken as UTF-8, invalid sequences becoming U+FFFD, as
// Dovecot's message_header_decode_utf8 (what SEARCH matches) does.
func DecodedHeaderValue(value []byte) string {
	var b strings.Builder
	pendingWS := ""
	lastEncoded := false
	for i := 0; i < len(value); {
		c := value[i]
		if c == '\r' || c == '\n' {
			i++
			continue
		}
		if c == ' ' || c == '\t' {
			j := i
			for j < len(value) && (value[j] == ' ' || value[j] == '\t' || value[j] == '\r' || value[j] == '\n') {
				j++
			}
			pendingWS += strings.Map(func(r rune) rune {
				if r == '\r' || r == '\n' {
					return -1
				}
				return r
			}, string(value[i:j]))
			i = j
			continue
		}
		if c == '=' && i+1 < len(value) && value[i+1] == '?' {
			if text, n, ok := decodeEncodedWord(value[i:]); ok {
				if !lastEncoded {
					b.WriteString(pendingWS)
				}
				pendingWS = ""
				b.WriteString(text)
				lastEncoded = true
				i += n
				continue
			}
		}
		b.WriteString(pendingWS)
		pendingWS = ""
		j := i
		for j < len(value) && value[j] != ' ' && value[j] != '\t' && value[j] != '\r' && value[j] != '\n' &&
			!(value[j] == '=' && j+1 < len(value) && value[j+1] == '?' && j > i) {
			j++
		}
		b.WriteString(rawToUTF8(value[i:j]))
		lastEncoded = false
		i = j
	}
	b.WriteString(pendingWS)
	return b.String()
}

func rawToUTF8(b []byte) string {
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// decodeEncodedWord decodes "=?charset?enc?text?=" at the start of s.
func decodeEncodedWord(s []byte) (string, int, bool) {
	end := bytes.Index(s[2:], []byte("?="))
	if end < 0 {
		return "", 0, false
	}
	// the text may itself contain "?=" only as part of the enc marker
	parts := bytes.SplitN(s[2:], []byte("?"), 3)
	if len(parts) != 3 || len(parts[1]) != 1 {
		return "", 0, false
	}
	charset := string(parts[0])
	if k := strings.IndexByte(charset, '*'); k >= 0 {
		charset = charset[:k] // RFC 2231 language suffix
	}
	rest := parts[2]
	stop := bytes.Index(rest, []byte("?="))
	if stop < 0 {
		return "", 0, false
	}
	text := rest[:stop]
	n := 2 + len(parts[0]) + 1 + 1 + 1 + stop + 2
	var raw []byte
	switch parts[1][0] {
	case 'B', 'b':
		t := bytes.TrimRight(text, "=")
		dec, err := base64.RawStdEncoding.DecodeString(string(t))
		if err != nil {
			return "", 0, false
		}
		raw = dec
	case 'Q', 'q':
		raw = decodeQP(text, true)
	default:
		return "", 0, false
	}
	return ToUTF8(charset, raw), n, true
}

// decodeQP decodes quoted-printable (RFC 2045 section 6.7); with header set,
// '_' is a space (RFC 2047 section 4.2). Broken escapes are kept.
func decodeQP(text []byte, header bool) []byte {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '_' && header:
			out = append(out, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		case c == '=' && !header:
			// soft line break: "=" [WSP] CRLF
			j := i + 1
			for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
				j++
			}
			if j < len(text) && text[j] == '\r' {
				j++
			}
			if j < len(text) && text[j] == '\n' {
				i = j
				continue
			}
			if j == len(text) {
				i = j
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// DecodeBody undoes a Content-Transfer-Encoding (base64, quoted-printable;
// anything else is passed through). Broken base64 is decoded up to the
// first bad quantum.
func DecodeBody(encoding string, body []byte) []byte {
	switch strings.ToLower(encoding) {
	case "base64":
		clean := make([]byte, 0, len(body))
		for _, c := range body {
			if c == '=' {
				break
			}
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
				clean = append(clean, c)
			}
		}
		if len(clean)%4 == 1 {
			clean = clean[:len(clean)-1]
		}
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, _ := base64.RawStdEncoding.Decode(out, clean)
		return out[:n]
	case "quoted-printable":
		return decodeQP(body, false)
	default:
		return body
	}
}

// ErrUnknownCTE reports a Content-Transfer-Encoding that is none of 7bit,
// 8bit, binary, base64 and quoted-printable: the body cannot be decoded
// (IMAP BINARY answers [UNKNOWN-CTE], RFC 3516 section 4.3; Dovecot's
// SEARCH skips the part).
var ErrUnknownCTE = errors.New("unknown Content-Transfer-Encoding")

// DecodeBodyPart returns the body of part (a part of msg, the bytes Parse
// was given) as Dovecot's message decoder hands it to SEARCH: the transfer
// encoding undone, then converted from the Content-Type charset (default
// UTF-8; unknown charsets are taken as UTF-8) to valid UTF-8. As in
// Dovecot, the last Content-Transfer-Encoding field counts, and an unknown
// one gives ErrUnknownCTE. Which parts SEARCH reads is the caller's
// business (Dovecot: text/* and message/* bodies, and parts without a
// Content-Type).
func DecodeBodyPart(msg []byte, part *Part) ([]byte, error) {
	if part.End() > int64(len(msg)) || part.Offset < 0 || part.BodyOffset() > part.End() {
		return nil, fmt.Errorf("decode body part: part outside message")
	}
	if part.Body.Physical > MaxDecodedSize {
		return nil, fmt.Errorf("decode body part: %d bytes exceed limit", part.Body.Physical)
	}
	enc, ok := partCTE(msg[part.Offset:part.BodyOffset()])
	if !ok {
		return nil, fmt.Errorf("decode body part: %w", ErrUnknownCTE)
	}
	dec := DecodeBody(enc, msg[part.BodyOffset():part.End()])
	charset := ""
	for _, p := range part.Content.Params {
		if strings.EqualFold(p.Name, "charset") {
			charset = p.Value
			break
		}
	}
	return []byte(ToUTF8(charset, dec)), nil
}

// partCTE returns the transfer encoding named by the last
// Content-Transfer-Encoding field of header, lower-cased ("7bit" when
// there is none), and false when it is unknown (Dovecot's
// message_decoder_parse_cte).
func partCTE(header []byte) (string, bool) {
	enc := "7bit"
	for _, f := range ParseHeader(header) {
		if !bytes.EqualFold(f.Name, []byte("Content-Transfer-Encoding")) {
			continue
		}
		rp := rfcParser{data: f.Value}
		rp.skipLWSP()
		var tok []byte
		rp.parseMIMEToken(&tok)
		enc = strings.ToLower(string(tok))
	}
	switch enc {
	case "7bit", "8bit", "binary", "base64", "quoted-printable":
		return enc, true
	}
	return enc, false
}
