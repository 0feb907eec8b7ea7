package imap

import (
	"bytes"

	"roost/internal/message"
)

// PickFields returns the fields of a header block whose names are among
// names (compared case-insensitively), exactly as message.ParseHeader
// returns them and in the same order, parsing only those: SORT, THREAD
// and SEARCH read two or three fields of every message, and the others
// are skipped without being copied. The block ends at the first empty
// line, as for ParseHeader.
func PickFields(block []byte, names ...string) []message.Field {
	sub := PickLines(nil, block, names...)
	if sub == nil {
		return nil
	}
	return message.ParseHeader(sub)
}

// PickLines appends to dst the physical lines of the fields PickFields
// picks from block; PickFields of the result with the same names returns
// the same fields. dst stays nil when no field is picked.
func PickLines(dst, block []byte, names ...string) []byte {
	take := false
	var firsts [8]byte // first letters of names, lower-cased; 0: any
	nf := 0
	for _, n := range names {
		if nf == len(firsts) || len(n) == 0 || n[0] >= 0x80 {
			nf = -1 // too many, or a name that could fold from another byte
			break
		}
		firsts[nf] = lowerASCII(n[0])
		nf++
	}
	for pos := 0; pos < len(block); {
		next := len(block)
		if i := bytes.IndexByte(block[pos:], '\n'); i >= 0 {
			next = pos + i + 1
		}
		line := block[pos:next]
		if pos > 0 && (line[0] == ' ' || line[0] == '\t') {
			// continues the previous field (message's headerReader:
			// the line after a newline starts with LWSP)
			if take {
				dst = append(dst, line...)
			}
			pos = next
			continue
		}
		content := line
		if c, ok := bytes.CutSuffix(line, []byte("\n")); ok {
			content = bytes.TrimSuffix(c, []byte("\r"))
		}
		if len(content) == 0 {
			break // the empty line ending the header
		}
		take = (nf < 0 || content[0] >= 0x80 || bytes.IndexByte(firsts[:nf], lowerASCII(content[0])) >= 0) &&
			nameIn(fieldName(content), names)
		if take {
			dst = append(dst, line...)
		}
		pos = next
	}
	return dst
}

// fieldName is a field line's name as message's header reader sees it:
// the text before the first ':', blanks before the colon removed; the
// whole line when it has no colon.
func fieldName(content []byte) []byte {
	colon := bytes.IndexByte(content, ':')
	if colon < 0 {
		return content
	}
	end := colon
	for end > 0 && (content[end-1] == ' ' || content[end-1] == '\t') {
		end--
	}
	return content[:end]
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func nameIn(name []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(name, []byte(n)) {
			return true
		}
	}
	return false
}
