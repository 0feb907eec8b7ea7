package imapserver

import (
	"bytes"
	"encoding/base64"

	"roost/internal/message"
)

// base64CTE replaces a part's "Content-Transfer-Encoding: binary" field.
const base64CTE = "Content-Transfer-Encoding: base64\r\n"

// base64LineLen is the length of the base64 lines convertBinary writes.
const base64LineLen = 76

// convertBinary rewrites a message received as a literal8 (RFC 3516
// section 4.4) as Dovecot's binary converter does: the body of every
// non-multipart part whose header has exactly "Content-Transfer-Encoding:
// binary" (an unfolded field, any case) is base64-encoded in 76-column
// lines, with no line end after the last, and that field becomes
// "Content-Transfer-Encoding: base64". Everything else is kept as sent;
// parts inside a converted part are encoded with it.
func convertBinary(data []byte) []byte {
	root := message.Parse(data)
	var out bytes.Buffer
	pos := int64(0)
	var convert func(p *message.Part)
	convert = func(p *message.Part) {
		start, end, ok := binaryCTEField(data[p.Offset:p.BodyOffset()])
		if !ok || p.Is(message.FlagMultipart) {
			for _, ch := range p.Children {
				convert(ch)
			}
			return
		}
		out.Write(data[pos : p.Offset+int64(start)])
		out.WriteString(base64CTE)
		out.Write(data[p.Offset+int64(end) : p.BodyOffset()])
		writeBase64Lines(&out, data[p.BodyOffset():p.End()])
		pos = p.End()
	}
	convert(root)
	if pos == 0 {
		return data
	}
	out.Write(data[pos:])
	return out.Bytes()
}

// binaryCTEField finds a "Content-Transfer-Encoding: binary" field in a
// header block and returns its byte range including the line end.
func binaryCTEField(hdr []byte) (start, end int, ok bool) {
	const name = "content-transfer-encoding"
	for i := 0; i < len(hdr); {
		j := bytes.IndexByte(hdr[i:], '\n')
		lineEnd := len(hdr)
		if j >= 0 {
			lineEnd = i + j + 1
		}
		line := bytes.TrimRight(hdr[i:lineEnd], "\r\n")
		folded := lineEnd < len(hdr) && (hdr[lineEnd] == ' ' || hdr[lineEnd] == '\t')
		if k := bytes.IndexByte(line, ':'); k > 0 && !folded &&
			bytes.EqualFold(bytes.TrimRight(line[:k], " \t"), []byte(name)) &&
			bytes.EqualFold(bytes.TrimLeft(line[k+1:], " \t"), []byte("binary")) {
			return i, lineEnd, true
		}
		i = lineEnd
	}
	return 0, 0, false
}

// writeBase64Lines writes b in base64, base64LineLen characters a line,
// lines separated by CRLF.
func writeBase64Lines(out *bytes.Buffer, b []byte) {
	enc := base64.StdEncoding.EncodeToString(b)
	for len(enc) > base64LineLen {
		out.WriteString(enc[:base64LineLen])
		out.WriteString("\r\n")
		enc = enc[base64LineLen:]
	}
	out.WriteString(enc)
}
