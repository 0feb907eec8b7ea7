package message

import "bytes"

// HeaderFields returns the fields of header (a header block, as
// msg[p.Offset:p.BodyOffset()]) whose names are in names, or with not set
// those whose names are not, as IMAP BODY[HEADER.FIELDS (...)] and
// BODY[HEADER.FIELDS.NOT (...)] answer (RFC 3501 section 6.4.5). Field
// lines are copied unchanged, continuation lines included; names compare
// case-insensitively.
//
// As Dovecot 2.3 does, HEADER.FIELDS always ends with an empty line and
// CRLF-terminates an unterminated last line, while HEADER.FIELDS.NOT copies
// the header as it is: the empty line only if the header had one, and an
// unterminated last line unterminated.
func HeaderFields(header []byte, names []string, not bool) []byte {
	var out []byte
	keep := false
	eoh := !not
	for pos := 0; pos < len(header); {
		end := bytes.IndexByte(header[pos:], '\n')
		if end < 0 {
			end = len(header)
		} else {
			end += pos + 1
		}
		line := header[pos:end]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			eoh = true
			break // end of header
		}
		if !isLWSP(line[0]) {
			name := line
			if colon := bytes.IndexByte(line, ':'); colon >= 0 {
				name = bytes.TrimRight(line[:colon], " \t")
			} else {
				name = bytes.TrimRight(line, "\r\n")
			}
			keep = nameListed(name, names) != not
		}
		if keep {
			out = append(out, line...)
			if line[len(line)-1] != '\n' && !not {
				out = append(out, '\r', '\n')
			}
		}
		pos = end
	}
	if !eoh {
		return out
	}
	return append(out, '\r', '\n')
}

func nameListed(name []byte, names []string) bool {
	for _, n := range names {
		if bytes.EqualFold(name, []byte(n)) {
			return true
		}
	}
	return false
}
