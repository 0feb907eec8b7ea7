package imapserver

import (
	"io"

	"roost/internal/message"
)

// sectionRange locates a section of a message (RFC 3501 section 6.4.5)
// as Dovecot's imap-msgpart does: either a byte range of the message, or
// filtered header bytes (HEADER.FIELDS[.NOT]). found is false for a part
// that does not exist, which is sent as an empty string.
type sectionRange struct {
	start, end int64
	filtered   []byte // set for specFields and specFieldsNot
	useFilter  bool
	found      bool
}

// findPart walks part numbers as imap_msgpart_find: in a non-multipart
// only 1 is valid; a message/rfc822 part is entered when more numbers
// follow.
func findPart(root *message.Part, nums []uint32) *message.Part {
	part := root
	for i, n := range nums {
		if part == nil {
			return nil
		}
		more := i+1 < len(nums)
		if part.Is(message.FlagMultipart) {
			if n == 0 {
				n = 1 // Dovecot quirk: 0 behaves as 1 in a multipart
			}
			if int(n) > len(part.Children) {
				return nil
			}
			part = part.Children[n-1]
		} else if n != 1 || (more && !part.Is(message.FlagMessageRFC822)) {
			return nil
		}
		if more && part.Is(message.FlagMessageRFC822) && len(part.Children) > 0 {
			part = part.Children[0]
		}
	}
	return part
}

// locateSection resolves it against the parsed message. header returns
// the raw bytes of [start,end) of the message (used only for
// HEADER.FIELDS).
func locateSection(root *message.Part, size int64, it *fetchItem, read func(start, end int64) ([]byte, error)) (sectionRange, error) {
	part := root
	if len(it.part) > 0 {
		part = findPart(root, it.part)
		if part == nil {
			return sectionRange{}, nil
		}
		switch it.spec {
		case specHeader, specFields, specFieldsNot, specText:
			if !part.Is(message.FlagMessageRFC822) || len(part.Children) == 0 {
				return sectionRange{}, nil
			}
			part = part.Children[0]
		}
	}
	sr := sectionRange{found: true}
	switch {
	case it.spec == specFull && len(it.part) == 0:
		sr.start, sr.end = 0, size
	case it.spec == specFull:
		sr.start, sr.end = part.BodyOffset(), part.End()
	case it.spec == specText:
		sr.start, sr.end = part.BodyOffset(), part.End()
	default: // HEADER, MIME, HEADER.FIELDS[.NOT]
		sr.start, sr.end = part.Offset, part.BodyOffset()
	}
	sr.end = min(sr.end, size)
	sr.start = min(sr.start, sr.end)
	if it.spec == specFields || it.spec == specFieldsNot {
		hdr, err := read(sr.start, sr.end)
		if err != nil {
			return sr, err
		}
		sr.filtered, sr.useFilter = message.HeaderFields(hdr, it.fields, it.spec == specFieldsNot), true
	}
	return sr, nil
}

// applyPartial narrows [start,end) to <offset.count>.
func applyPartial(start, end int64, it *fetchItem) (int64, int64) {
	if !it.partial {
		return start, end
	}
	if it.offset >= end-start {
		return end, end
	}
	start += it.offset
	if it.count >= 0 && it.count < end-start {
		end = start + it.count
	}
	return start, end
}

// nulReader replaces NUL bytes by 0x80, as Dovecot does in literals
// (istream-nonuls) since IMAP literals must not contain NUL.
type nulReader struct{ r io.Reader }

func (n nulReader) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	for i := range p[:k] {
		if p[i] == 0 {
			p[i] = 0x80
		}
	}
	return k, err
}
