package message

import (
	"bytes"
	"fmt"
	"io"
)

// Limits, as Dovecot 2.3's message parser defaults.
const (
	// MaxNestedParts is how deep multiparts and message/rfc822 parts may
	// nest; deeper ones are treated as leaves (message_max_nested_mime_parts).
	MaxNestedParts = 100
	// MaxTotalParts is the most parts one message may have
	// (message_max_total_mime_parts).
	MaxTotalParts = 10000
	// maxBoundaryLen truncates boundary parameters (RFC 2046 allows 70).
	maxBoundaryLen = 70 + 10
	// boundaryEndMaxLen bounds how much of an unterminated last line is
	// compared against boundaries.
	boundaryEndMaxLen = maxBoundaryLen + 2 + 2
	// MaxMessageSize is the largest message ParseReader accepts.
	MaxMessageSize = 1 << 30
)

type boundary struct {
	next          *boundary
	part          *Part
	str           []byte
	epilogueFound bool
}

type parseState int

const (
	stHeader parseState = iota
	stBodyToBoundary
	stBodyToEOF
	stMIMEHeaderInit
	stRFC822Init
	stDone
)

type mimeParser struct {
	data       []byte
	pos        int
	root, part *Part
	boundaries *boundary
	lastChr    byte
	nested     int
	total      int
	state      parseState
}

// Parse parses a message (ideally in CRLF form) into its MIME tree exactly
// as Dovecot 2.3 does, including its repairs of malformed input. It never
// fails; data is referenced, not copied, by nothing in the result.
func Parse(data []byte) *Part {
	p := &mimeParser{data: data, root: &Part{}}
	p.part = p.root
	for p.state != stDone {
		p.step()
	}
	for p.part.Parent != nil {
		p.finishPart()
	}
	return p.root
}

// ParseReader reads a message of the given size from r and parses it.
func ParseReader(r io.ReaderAt, size int64) (*Part, error) {
	if size < 0 || size > MaxMessageSize {
		return nil, fmt.Errorf("parse message: size %d out of range", size)
	}
	buf := make([]byte, size)
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	return Parse(buf), nil
}

func (p *mimeParser) step() {
	switch p.state {
	case stHeader:
		p.parseHeader()
	case stBodyToBoundary:
		p.bodyToBoundary()
	case stBodyToEOF:
		p.addBody(p.pos, len(p.data))
		p.state = stDone
	case stMIMEHeaderInit:
		p.appendPart()
		p.part.Flags |= FlagIsMIME
		p.state = stHeader
	case stRFC822Init:
		p.appendPart()
		p.state = stHeader
	}
}

func (p *mimeParser) appendPart() {
	parent := p.part
	child := &Part{Parent: parent, Offset: parent.Offset + parent.Header.Physical + parent.Body.Physical}
	parent.Children = append(parent.Children, child)
	p.part = child
	p.nested++
	p.total++
}

func (p *mimeParser) finishPart() {
	child := p.part
	parent := child.Parent
	parent.Body.add(child.Body)
	parent.Body.add(child.Header)
	p.nested--
	p.part = parent
}

func (p *mimeParser) tooManyNested() bool { return p.nested+1 >= MaxNestedParts }

func (p *mimeParser) addBody(start, end int) {
	if end <= start {
		return
	}
	blk := p.data[start:end]
	part := p.part
	if bytes.IndexByte(blk, 0) >= 0 {
		part.Flags |= FlagHasNULs
	}
	var lines, missingCR int64
	if blk[0] == '\n' {
		lines++
		if p.lastChr != '\r' {
			missingCR++
		}
	}
	for i := 1; i < len(blk); {
		n := bytes.IndexByte(blk[i:], '\n')
		if n < 0 {
			break
		}
		i += n
		lines++
		if blk[i-1] != '\r' {
			missingCR++
		}
		i++
	}
	p.lastChr = blk[len(blk)-1]
	part.Body.Physical += int64(len(blk))
	part.Body.Virtual += int64(len(blk)) + missingCR
	part.Body.Lines += lines
}

// findBoundaryLine checks whether the line at pos is "--" plus a known
// boundary and returns it.
func (p *mimeParser) findBoundaryLine(pos int) *boundary {
	if p.boundaries == nil || len(p.data)-pos < 2 {
		return nil
	}
	rest := p.data[pos:]
	if rest[0] != '-' || rest[1] != '-' {
		return nil
	}
	rest = rest[2:]
	find := len(rest)
	trailingDashes := false
	if lf := bytes.IndexByte(rest, '\n'); lf >= 0 {
		find = lf
		if find > 0 && rest[find-1] == '\r' {
			find--
		}
		trailingDashes = find > 2 && rest[find-1] == '-' && rest[find-2] == '-'
	} else if find > boundaryEndMaxLen {
		find = boundaryEndMaxLen
	}
	line := rest[:find]
	// The longest boundary that prefixes the line wins; "foo--" may be
	// boundary "foo" ending or boundary "foo--" continuing.
	var best *boundary
	for b := p.boundaries; b != nil; b = b.next {
		n := len(b.str)
		if n <= len(line) && bytes.Equal(b.str, line[:n]) && (best == nil || len(best.str) < n) {
			best = b
			if n == len(line) || (trailingDashes && n == len(line)-2) {
				break
			}
		}
	}
	if best != nil {
		n := len(best.str)
		best.epilogueFound = len(rest) >= n+2 && rest[n] == '-' && rest[n+1] == '-'
	}
	return best
}

func (p *mimeParser) bodyToBoundary() {
	start := p.pos
	if p.lastChr == '\n' && start < len(p.data) {
		if b := p.findBoundaryLine(start); b != nil {
			p.finishAtBoundary(b, start, true)
			return
		}
	}
	for i := start; ; {
		n := bytes.IndexByte(p.data[i:], '\n')
		if n < 0 {
			break
		}
		n += i
		bstart := n
		if n > start && p.data[n-1] == '\r' {
			bstart--
		}
		if b := p.findBoundaryLine(n + 1); b != nil {
			p.addBody(start, bstart)
			p.finishAtBoundary(b, bstart, false)
			return
		}
		i = n + 1
	}
	p.addBody(start, len(p.data))
	p.pos = len(p.data)
	p.state = stDone
}

// finishAtBoundary ends the parts inside boundary b, whose line
// ([CR]LF--boundary[--]) starts at at.
func (p *mimeParser) finishAtBoundary(b *boundary, at int, firstLine bool) {
	for p.part != b.part {
		p.finishPart()
	}
	if b.epilogueFound {
		p.boundaries = b.next
	} else {
		p.boundaries = b
	}
	size := 2 + len(b.str)
	if b.epilogueFound {
		size += 2
	}
	if !firstLine {
		if p.data[at] == '\r' {
			size += 2
		} else {
			size++
		}
	}
	p.addBody(at, at+size)
	p.pos = at + size
	// the rest of the boundary line
	lf := bytes.IndexByte(p.data[p.pos:], '\n')
	if lf < 0 {
		p.addBody(p.pos, len(p.data))
		p.pos = len(p.data)
		p.state = stDone
		return
	}
	p.addBody(p.pos, p.pos+lf+1)
	p.pos += lf + 1
	switch {
	case p.boundaries == nil:
		p.state = stBodyToEOF
	case p.boundaries.part != p.part, p.total >= MaxTotalParts:
		p.state = stBodyToBoundary
	default:
		p.state = stMIMEHeaderInit
	}
}

func (p *mimeParser) atEOH(pos int) bool {
	d := p.data[pos:]
	return len(d) > 0 && (d[0] == '\n' || (d[0] == '\r' && len(d) > 1 && d[1] == '\n'))
}
