package message

import "bytes"

// headerLine is one physical header line as Dovecot's header parser returns
// it (parser flags SKIP_INITIAL_LWSP and DROP_CR).
type headerLine struct {
	name      []byte // for a first line: the field name, LWSP before ':' removed
	value     []byte // the value on this physical line, without the newline
	continued bool   // this line continues the previous one
	continues bool   // the next line continues this one
	eoh       bool   // the empty line ending the header
	noNewline bool   // the line ended at the end of input
	crlf      bool   // the line ended with CRLF
}

// headerReader splits a header block into physical lines and keeps the
// header's size.
type headerReader struct {
	data      []byte
	pos       int
	size      *Size
	hasNULs   bool
	continues bool
	done      bool
}

// next returns the next line, or false at the end of the header (after the
// empty line was returned, or at the end of input).
func (h *headerReader) next() (headerLine, bool) {
	if h.done || h.pos >= len(h.data) {
		h.done = true
		return headerLine{}, false
	}
	rest := h.data[h.pos:]
	line := headerLine{continued: h.continues}
	colon := -1
	i := 0
	if !line.continued {
		for ; i < len(rest); i++ {
			c := rest[i]
			if c > ':' {
				continue
			}
			if c == ':' {
				colon = i
				break
			}
			if c == '\n' {
				break
			}
			if c == 0 {
				h.hasNULs = true
			}
		}
	}
	for ; i < len(rest) && rest[i] != '\n'; i++ {
		if rest[i] == 0 {
			h.hasNULs = true
		}
	}
	var content []byte
	var skip int
	if i == len(rest) {
		// header ended unexpectedly, without a newline
		line.noNewline = true
		content = rest
		skip = len(rest)
	} else {
		line.continues = i+1 < len(rest) && isLWSP(rest[i+1])
		h.size.Lines++
		if i == 0 || rest[i-1] != '\r' {
			h.size.Virtual++
			content = rest[:i]
		} else {
			content = rest[:i-1]
			line.crlf = true
		}
		skip = i + 1
	}
	h.size.Physical += int64(skip)
	h.size.Virtual += int64(skip)
	h.pos += skip
	h.continues = line.continues

	switch {
	case len(content) == 0 && !line.continued:
		line.eoh = true
		line.continues = false
		h.continues = false
		h.done = true
	case line.continued:
		line.value = content
	case colon < 0 || colon >= len(content):
		line.name = content
	default:
		v := content[colon+1:]
		n := 0
		for n < len(v) && isLWSP(v[n]) {
			n++
		}
		if n == len(v) && len(v) > 0 {
			n = 1
		}
		line.value = v[n:]
		end := colon
		for end > 0 && isLWSP(content[end-1]) {
			end--
		}
		line.name = content[:end]
	}
	return line, true
}

// Field is one complete (logical) header field.
type Field struct {
	// Name is the field name as written.
	Name []byte
	// Value is the value with the physical lines joined by "\n" (CRs
	// dropped), leading whitespace of the first line removed.
	Value []byte
}

// ParseHeader returns the fields of a header block, as Dovecot sees them. The
// block ends at the first empty line or at the end of data.
func ParseHeader(data []byte) []Field {
	var size Size
	h := headerReader{data: data, size: &size}
	var out []Field
	for {
		line, ok := h.next()
		if !ok || line.eoh {
			return out
		}
		if line.continued && len(out) > 0 {
			f := &out[len(out)-1]
			f.Value = append(append(f.Value, '\n'), line.value...)
			continue
		}
		out = append(out, Field{Name: line.name, Value: append([]byte(nil), line.value...)})
	}
}

// FieldValue returns the value of the first field named name (compared
// case-insensitively) and whether there was one.
func FieldValue(fields []Field, name string) ([]byte, bool) {
	for _, f := range fields {
		if bytes.EqualFold(f.Name, []byte(name)) {
			return f.Value, true
		}
	}
	return nil, false
}
