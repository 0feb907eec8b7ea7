package imapserver

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"roost/internal/message"
)

// binarySection returns the content of BINARY[part] (RFC 3516 section
// 4.1) before any partial, as Dovecot builds it (message.BinarySection):
// the transfer encoding undone, no charset conversion. A part that does
// not exist is empty, as Dovecot answers.
func binarySection(ctx context.Context, md *msgData, it *fetchItem) ([]byte, error) {
	b, _, err := binarySectionDecoded(ctx, md, it)
	return b, err
}

// binarySectionDecoded is binarySection and whether a transfer encoding
// (base64, quoted-printable) was undone in it: Dovecot then sends the
// content as a literal8 even without NUL bytes.
func binarySectionDecoded(ctx context.Context, md *msgData, it *fetchItem) ([]byte, bool, error) {
	root, data, err := md.parsed(ctx)
	if err != nil {
		return nil, false, err
	}
	var part *message.Part
	if len(it.part) > 0 {
		if part = findPart(root, it.part); part == nil {
			return []byte{}, false, nil
		}
	}
	b, err := message.BinarySection(data, root, part)
	if part == nil {
		part = root
	}
	return b, err == nil && hasDecodedCTE(data, part), err
}

// hasDecodedCTE reports whether p or a part inside it has a base64 or
// quoted-printable Content-Transfer-Encoding field (read from the header:
// Dovecot decodes it with or without MIME-Version).
func hasDecodedCTE(data []byte, p *message.Part) bool {
	hdr := message.ParseHeader(data[p.Offset:p.BodyOffset()])
	if te, ok := message.FieldValue(hdr, "Content-Transfer-Encoding"); ok {
		v := strings.TrimSpace(string(te))
		if strings.EqualFold(v, "base64") || strings.EqualFold(v, "quoted-printable") {
			return true
		}
	}
	for _, ch := range p.Children {
		if hasDecodedCTE(data, ch) {
			return true
		}
	}
	return false
}

// binary prepares BINARY[...] and BINARY.PEEK[...]: a literal, or a
// literal8 when the content holds NUL bytes (RFC 3516 section 4.2).
func (f *fetcher) binary(ctx context.Context, md *msgData, it *fetchItem) (itemValue, error) {
	b, decoded, err := binarySectionDecoded(ctx, md, it)
	if err != nil {
		return itemValue{}, err
	}
	s, e := applyPartial(0, int64(len(b)), it)
	b = b[s:e]
	return itemValue{name: it.label, raw: b, literal: true, lit8: decoded || bytes.IndexByte(b, 0) >= 0}, nil
}

// binaryStatus maps a BINARY decoding failure to Dovecot's tagged NO
// (RFC 3516 section 4.3), or returns nil for other errors. Dovecot 2.3
// ends the session on base64 that stops mid-quantum; roost answers
// [PARSE] for it like other broken content.
func binaryStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, message.ErrUnknownCTE):
		return no("UNKNOWN-CTE", "Unknown Content-Transfer-Encoding.")
	case errors.Is(err, message.ErrInvalidEncoding):
		return no("PARSE", "Invalid data in MIME part.")
	}
	return nil
}
