package message

import (
	"bytes"
	"strings"
)

// headerState is the per-part state while its header block is parsed.
type headerState struct {
	part         *Part
	seenCT       bool
	lastBoundary []byte
	hasBoundary  bool
	multipart    bool
	parentRFC822 bool
	wantEnvelope bool
	name, value  []byte
	inField      bool
	prevNewline  int
}

func (p *mimeParser) parseHeader() {
	part := p.part
	hs := &headerState{part: part}
	hs.parentRFC822 = part.Parent != nil && part.Parent.Flags&FlagMessageRFC822 != 0
	hs.wantEnvelope = part.Parent == nil || hs.parentRFC822
	h := headerReader{data: p.data, pos: p.pos, size: &part.Header}
	for {
		if p.pos < len(p.data) {
			if p.atEOH(p.pos) && hs.hasBoundary && part.Flags&FlagIsMIME != 0 {
				if !p.tooManyNested() {
					p.boundaries = &boundary{next: p.boundaries, part: part, str: hs.lastBoundary}
					hs.multipart = true
					hs.hasBoundary = false
				} else {
					part.Flags &^= FlagMultipart
				}
			}
			if b := p.findBoundaryLine(p.pos); b != nil && b.part != part {
				p.boundaryInHeader(hs)
				break
			}
		}
		h.pos = p.pos
		line, ok := h.next()
		p.pos = h.pos
		if !ok {
			break
		}
		hs.prevNewline = 0
		if !line.noNewline {
			hs.prevNewline = 1
			if line.crlf {
				hs.prevNewline = 2
			}
		}
		if line.eoh {
			continue
		}
		p.headerLine(hs, line)
	}
	p.endHeader(hs, h.hasNULs)
}

// boundaryInHeader handles a parent's boundary met inside a header: the
// newline before it belongs to the boundary, i.e. to the parent's body.
func (p *mimeParser) boundaryInHeader(hs *headerState) {
	if hs.prevNewline == 0 {
		return
	}
	part := hs.part
	part.Header.Lines--
	part.Header.Physical -= int64(hs.prevNewline)
	part.Header.Virtual -= 2
	part.Parent.Body.Lines++
	part.Parent.Body.Physical += int64(hs.prevNewline)
	part.Parent.Body.Virtual += 2
}

func (p *mimeParser) headerLine(hs *headerState, line headerLine) {
	if line.continued {
		if hs.inField {
			hs.value = append(hs.value, '\n')
			hs.value = append(hs.value, line.value...)
		}
	} else {
		hs.inField = true
		hs.name = append(hs.name[:0], line.name...)
		hs.value = append(hs.value[:0], line.value...)
	}
	if line.continues {
		return
	}
	hs.inField = false
	p.headerField(hs, hs.name, hs.value)
}

func (p *mimeParser) headerField(hs *headerState, rawName, value []byte) {
	part := hs.part
	name := cString(rawName)
	switch {
	case strings.EqualFold(name, "Mime-Version"):
		part.Flags |= FlagIsMIME
	case strings.EqualFold(name, "Content-Type"):
		part.Flags |= FlagIsMIME
		p.partContentType(hs, value)
	}
	if len(name) >= 8 && strings.EqualFold(name[:8], "Content-") {
		parseContentHeader(&part.Content, name[8:], value)
	}
	if hs.wantEnvelope {
		if part.Envelope == nil {
			part.Envelope = &Envelope{}
		}
		parseEnvelopeHeader(part.Envelope, name, value)
	}
}

// partContentType sets the part flags from the first Content-Type, as the
// message parser (not the BODYSTRUCTURE data) does.
func (p *mimeParser) partContentType(hs *headerState, value []byte) {
	if hs.seenCT {
		return
	}
	hs.seenCT = true
	part := hs.part
	rp := rfcParser{data: value}
	rp.skipLWSP()
	var ct []byte
	ret := rp.parseContentType(&ct)
	cts := cString(ct)
	switch {
	case strings.EqualFold(cts, "message/rfc822"):
		part.Flags |= FlagMessageRFC822
	case len(cts) >= 4 && strings.EqualFold(cts[:4], "text") && (len(cts) == 4 || cts[4] == '/'):
		part.Flags |= FlagText
	case len(cts) >= 10 && strings.EqualFold(cts[:10], "multipart/"):
		part.Flags |= FlagMultipart
		if strings.EqualFold(cts[10:], "digest") {
			part.Flags |= FlagMultipartDigest
		}
	}
	if ret < 0 || part.Flags&FlagMultipart == 0 || hs.hasBoundary {
		return
	}
	params, _ := rp.parseParams()
	for _, prm := range params {
		if strings.EqualFold(prm.Name, "boundary") {
			b := prm.Value
			if len(b) > maxBoundaryLen {
				b = b[:maxBoundaryLen]
			}
			hs.lastBoundary = []byte(b)
			hs.hasBoundary = true
			break
		}
	}
}

func (p *mimeParser) endHeader(hs *headerState, hasNULs bool) {
	part := hs.part
	if part.Flags&FlagIsMIME == 0 {
		part.Flags = 0
		part.Content = Content{}
	}
	if !hs.seenCT || part.Flags&FlagIsMIME == 0 {
		if part.Parent != nil && part.Parent.Flags&FlagMultipartDigest != 0 {
			part.Flags |= FlagMessageRFC822
		} else {
			part.Flags |= FlagText
		}
	}
	if hasNULs {
		part.Flags |= FlagHasNULs
	}
	p.lastChr = '\n'
	switch {
	case hs.multipart:
		p.state = stBodyToBoundary
	case part.Flags&FlagMessageRFC822 != 0 && !p.tooManyNested() && p.total < MaxTotalParts:
		p.state = stRFC822Init
	default:
		// not message/rfc822, or nested too deep to be parsed as one
		part.Flags &^= FlagMessageRFC822
		if p.boundaries != nil {
			p.state = stBodyToBoundary
		} else {
			p.state = stBodyToEOF
		}
	}
}

// headerString copies a header value, NULs replaced by U+FFFD.
func headerString(v []byte) *string {
	if bytes.IndexByte(v, 0) < 0 {
		return strp(string(v))
	}
	return strp(string(bytes.ReplaceAll(v, []byte{0}, []byte(nulReplacement))))
}

func parseContentHeader(c *Content, name string, value []byte) {
	switch {
	case strings.EqualFold(name, "ID"):
		if c.ID == nil {
			c.ID = headerString(value)
		}
	case strings.EqualFold(name, "MD5"):
		if c.MD5 == nil {
			c.MD5 = headerString(value)
		}
	case strings.EqualFold(name, "Type"):
		if c.Type == nil {
			parseContentTypeData(c, value)
		}
	case strings.EqualFold(name, "Transfer-Encoding"):
		if c.TransferEncoding == nil {
			rp := rfcParser{data: value}
			rp.skipLWSP()
			var tok []byte
			if rp.parseMIMEToken(&tok) >= 0 && rp.skipLWSP() == 0 && len(tok) > 0 {
				c.TransferEncoding = strp(cString(tok))
			}
		}
	case strings.EqualFold(name, "Language"):
		if c.Language == nil {
			c.Language = parseLanguage(value)
		}
	case strings.EqualFold(name, "Location"):
		if c.Location == nil {
			c.Location = headerString(value)
		}
	case strings.EqualFold(name, "Description"):
		if c.Description == nil {
			c.Description = headerString(value)
		}
	case strings.EqualFold(name, "Disposition"):
		if c.DispositionParams == nil {
			rp := rfcParser{data: value}
			rp.skipLWSP()
			var tok []byte
			if rp.parseMIMEToken(&tok) < 0 {
				return
			}
			c.Disposition = strp(cString(tok))
			c.DispositionParams, _ = rp.parseParams()
		}
	}
}

func parseContentTypeData(c *Content, value []byte) {
	rp := rfcParser{data: value}
	rp.skipLWSP()
	var ct []byte
	ret := rp.parseContentType(&ct)
	s := cString(ct)
	typ, sub := s, ""
	if i := strings.IndexByte(s, '/'); i >= 0 {
		typ, sub = s[:i], s[i+1:]
	}
	c.Type, c.Subtype = strp(typ), strp(sub)
	if ret < 0 {
		return
	}
	c.Params, _ = rp.parseParams()
}

func parseLanguage(value []byte) []string {
	rp := rfcParser{data: value}
	rp.skipLWSP()
	var langs []string
	for {
		var tok []byte
		if rp.parseAtom(&tok) < 0 {
			break
		}
		langs = append(langs, cString(tok))
		if rp.pos >= len(rp.data) || rp.data[rp.pos] != ',' {
			break
		}
		rp.pos++
		rp.skipLWSP()
	}
	return langs
}

func parseEnvelopeHeader(e *Envelope, name string, value []byte) {
	var addr *[]Address
	var str **string
	switch strings.ToLower(name) {
	case "date":
		str = &e.Date
	case "subject":
		str = &e.Subject
	case "message-id":
		str = &e.MessageID
	case "in-reply-to":
		str = &e.InReplyTo
	case "from":
		addr = &e.From
	case "sender":
		addr = &e.Sender
	case "reply-to":
		addr = &e.ReplyTo
	case "to":
		addr = &e.To
	case "cc":
		addr = &e.Cc
	case "bcc":
		addr = &e.Bcc
	default:
		return
	}
	if addr != nil {
		// address headers that occur more than once are concatenated
		*addr = append(*addr, ParseAddressList(value)...)
	} else {
		*str = headerString(value)
	}
}
