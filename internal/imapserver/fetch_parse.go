package imapserver

import (
	"strconv"
	"strings"

	"roost/internal/imapwire"
)

// fetchKind is one FETCH data item (RFC 3501 section 6.4.5).
type fetchKind int

// Items Dovecot buffers (writes before any streamed item) come first.
const (
	fetchUID fetchKind = iota
	fetchFlags
	fetchInternalDate
	fetchRFC822Size
	fetchModSeq
	fetchSaveDate   // SAVEDATE (RFC 8514)
	fetchPreview    // PREVIEW, SNIPPET (RFC 8970, feature_preview.go)
	fetchBinarySize // BINARY.SIZE[part] (RFC 3516)
	fetchEnvelope
	fetchBody // BODY without a section: BODYSTRUCTURE without extensions
	fetchBodyStructure
	fetchRFC822
	fetchRFC822Header
	fetchRFC822Text
	fetchSection // BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...]
)

// buffered reports whether Dovecot writes the item from its line buffer
// (imap_fetch_add_handler's IMAP_FETCH_HANDLER_FLAG_BUFFERED): those items
// are sent first, in request order, then the others in request order.
// BINARY.SIZE is not buffered (Dovecot answers it in request order).
func (k fetchKind) buffered() bool { return k < fetchBinarySize }

// fetchSpec is one parsed section (RFC 3501 section 6.4.5, section-spec).
type fetchSpec int

const (
	specFull      fetchSpec = iota // BODY[] or BODY[1.2]
	specHeader                     // HEADER
	specFields                     // HEADER.FIELDS (...)
	specFieldsNot                  // HEADER.FIELDS.NOT (...)
	specText                       // TEXT
	specMIME                       // 1.2.MIME
)

// fetchItem is one requested item.
type fetchItem struct {
	kind fetchKind
	// For fetchSection:
	part    []uint32 // section part numbers, empty for the whole message
	spec    fetchSpec
	fields  []string // upper-cased header names for specFields/specFieldsNot
	peek    bool
	binary  bool // BINARY[...]: transfer encoding undone (RFC 3516)
	partial bool
	offset  int64
	count   int64  // -1: to the end
	label   string // response name, e.g. BODY[HEADER.FIELDS (FROM)]<0>
	preview previewOpts
}

// fetchRequest is a parsed FETCH attribute list.
type fetchRequest struct {
	items   []fetchItem // in response order
	setSeen bool        // a non-PEEK body item: set \Seen on read-write mailboxes
	flags   bool        // FLAGS was requested
}

// fetchMacros are RFC 3501 section 6.4.5's macros, as Dovecot expands them.
var fetchMacros = map[string][]string{
	"ALL":  {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"},
	"FAST": {"FLAGS", "INTERNALDATE", "RFC822.SIZE"},
	"FULL": {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"},
}

var simpleFetchItems = map[string]fetchKind{
	"UID": fetchUID, "FLAGS": fetchFlags, "INTERNALDATE": fetchInternalDate,
	"RFC822.SIZE": fetchRFC822Size, "MODSEQ": fetchModSeq, "ENVELOPE": fetchEnvelope,
	"SAVEDATE": fetchSaveDate,
	"BODY":     fetchBody, "BODYSTRUCTURE": fetchBodyStructure, "RFC822": fetchRFC822,
	"RFC822.HEADER": fetchRFC822Header, "RFC822.TEXT": fetchRFC822Text,
}

// fetchError is a FETCH syntax error: the dispatcher answers "BAD Error
// in IMAP command UID FETCH: msg".
func fetchError(msg string) error { return &imapwire.SyntaxError{Msg: msg} }

// parseFetchAtts reads the fetch attributes of FETCH/UID FETCH: a macro,
// a single attribute or a parenthesised list. It stops before any
// modifier list and the CRLF.
func parseFetchAtts(d *imapwire.Decoder, uid bool) (*fetchRequest, error) {
	req := &fetchRequest{}
	if uid {
		req.add(fetchItem{kind: fetchUID})
	}
	var name string
	if d.Atom(&name) {
		up := strings.ToUpper(name)
		if macro, ok := fetchMacros[up]; ok {
			for _, m := range macro {
				req.add(fetchItem{kind: simpleFetchItems[m]})
			}
			return req.finish(), nil
		}
		if err := req.parseAtt(d, up); err != nil {
			return nil, err
		}
		return req.finish(), nil
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	if !d.ExpectSpecial('(') {
		return nil, fetchError("Invalid arguments.")
	}
	if d.Special(')') {
		return nil, fetchError("FETCH list is empty.")
	}
	for {
		if !d.Atom(&name) {
			if d.Err() != nil {
				return nil, d.Err()
			}
			return nil, fetchError("FETCH list contains non-atoms.")
		}
		if err := req.parseAtt(d, strings.ToUpper(name)); err != nil {
			return nil, err
		}
		if d.Special(')') {
			return req.finish(), nil
		}
		if !d.SP() {
			if d.Err() != nil {
				return nil, d.Err()
			}
			return nil, fetchError("FETCH list contains non-atoms.")
		}
	}
}

// parseAtt parses one attribute whose leading atom (upper-cased) is name.
func (req *fetchRequest) parseAtt(d *imapwire.Decoder, name string) error {
	if k, ok := simpleFetchItems[name]; ok {
		if k == fetchRFC822 || k == fetchRFC822Text {
			req.setSeen = true
		}
		req.add(fetchItem{kind: k})
		return nil
	}
	if name == "PREVIEW" || name == "SNIPPET" {
		return req.parsePreview(d, name)
	}
	if rest, ok := strings.CutPrefix(name, "BINARY"); ok {
		return req.parseBinary(d, rest)
	}
	rest, ok := strings.CutPrefix(name, "BODY")
	if !ok || (!strings.HasPrefix(rest, "[") && !strings.HasPrefix(rest, ".PEEK[")) {
		if ok && rest != "" && !strings.HasPrefix(rest, ".PEEK") {
			return fetchError("Invalid BODY[..] parameter: Missing '['")
		}
		return fetchError("Unknown parameter " + name)
	}
	it := fetchItem{kind: fetchSection, count: -1}
	if after, peek := strings.CutPrefix(rest, ".PEEK"); peek {
		it.peek, rest = true, after
	}
	if err := parseSection(d, &it, rest[1:]); err != nil {
		return err
	}
	if !it.peek {
		req.setSeen = true
	}
	req.add(it)
	return nil
}

// parseBinary parses BINARY[part]<partial>, BINARY.PEEK[part]<partial>
// and BINARY.SIZE[part] (RFC 3516 section 4); rest follows "BINARY".
// The section holds part numbers only.
func (req *fetchRequest) parseBinary(d *imapwire.Decoder, rest string) error {
	it := fetchItem{kind: fetchSection, binary: true, count: -1}
	name := "BINARY"
	switch {
	case strings.HasPrefix(rest, ".PEEK"):
		it.peek, rest = true, rest[len(".PEEK"):]
	case strings.HasPrefix(rest, ".SIZE"):
		it.kind, rest, name = fetchBinarySize, rest[len(".SIZE"):], "BINARY.SIZE"
	}
	sec, ok := strings.CutPrefix(rest, "[")
	if !ok {
		return fetchError("Invalid BINARY[..] parameter: Missing '['")
	}
	if sec != "" {
		num, spec := splitSectionNumber(sec)
		if num == "-" || spec != "" {
			return fetchError("Invalid BINARY[..] section")
		}
		for _, p := range strings.Split(num, ".") {
			n, err := strconv.ParseUint(p, 10, 32)
			if err != nil || n == 0 {
				return fetchError("Invalid BINARY[..] section")
			}
			it.part = append(it.part, uint32(n))
		}
	}
	if !d.Special(']') {
		if d.Err() != nil {
			return d.Err()
		}
		return fetchError("Invalid BINARY[..] parameter: Missing ']'")
	}
	it.label = name + "[" + sec + "]"
	if it.kind == fetchBinarySize {
		req.add(it)
		return nil
	}
	if err := parsePartial(d, &it); err != nil {
		return err
	}
	if !it.peek {
		req.setSeen = true
	}
	req.add(it)
	return nil
}

// parseSection parses the section text after '[' (sec, as far as the
// atom went), the header list if any, the ']' and a partial.
func parseSection(d *imapwire.Decoder, it *fetchItem, sec string) error {
	num, spec := splitSectionNumber(sec)
	if num == "-" {
		return fetchError("Invalid BODY[..] section")
	}
	for _, p := range strings.Split(num, ".") {
		if p == "" {
			continue
		}
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return fetchError("Invalid BODY[..] section")
		}
		it.part = append(it.part, uint32(n))
	}
	label := sec
	switch spec {
	case "":
		it.spec = specFull
	case "HEADER":
		it.spec = specHeader
	case "TEXT":
		it.spec = specText
	case "MIME":
		it.spec = specMIME
		if len(it.part) == 0 {
			return fetchError("Invalid BODY[..] section")
		}
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		it.spec = specFields
		if spec == "HEADER.FIELDS.NOT" {
			it.spec = specFieldsNot
		}
		list, err := parseHeaderList(d)
		if err != nil {
			return err
		}
		it.fields = list.names
		label = sec + " (" + list.echo + ")"
	default:
		return fetchError("Invalid BODY[..] section")
	}
	if !d.Special(']') {
		if d.Err() != nil {
			return d.Err()
		}
		return fetchError("Invalid BODY[..] parameter: Missing ']'")
	}
	it.label = "BODY[" + label + "]"
	return parsePartial(d, it)
}

// splitSectionNumber splits "1.2.HEADER" into "1.2" and "HEADER". A
// malformed number (trailing dot, letters glued to digits) gives "-".
func splitSectionNumber(sec string) (num, spec string) {
	i, nextDigit := 0, true
	for ; i < len(sec); i++ {
		c := sec[i]
		if c >= '0' && c <= '9' {
			nextDigit = false
		} else if !nextDigit && c == '.' {
			nextDigit = true
		} else {
			break
		}
	}
	switch {
	case i == 0:
		return "", sec
	case i == len(sec):
		if sec[i-1] == '.' {
			return "-", ""
		}
		return sec, ""
	case sec[i-1] != '.':
		return "-", ""
	}
	return sec[:i-1], sec[i:]
}

type headerList struct {
	names []string // upper-cased
	echo  string   // as Dovecot writes it back: atoms bare, strings quoted
}

// parseHeaderList reads SP "(" astring *(SP astring) ")".
func parseHeaderList(d *imapwire.Decoder) (headerList, error) {
	var hl headerList
	if !d.SP() || !d.Special('(') {
		if d.Err() != nil {
			return hl, d.Err()
		}
		return hl, fetchError("Invalid BODY[..] section")
	}
	var echo strings.Builder
	for !d.Special(')') {
		if len(hl.names) > 0 && !d.SP() {
			if d.Err() != nil {
				return hl, d.Err()
			}
			return hl, fetchError("Invalid BODY[..] parameter: Header list contains non-strings")
		}
		var s string
		quoted := true
		if !d.Quoted(&s) && !(d.Err() == nil && d.Literal(&s)) {
			quoted = false
			if d.Err() != nil || !d.AString(&s) {
				if d.Err() != nil {
					return hl, d.Err()
				}
				return hl, fetchError("Invalid BODY[..] parameter: Header list contains non-strings")
			}
		}
		s = strings.ToUpper(s)
		if echo.Len() > 0 {
			echo.WriteByte(' ')
		}
		if quoted {
			echo.WriteString(strconv.Quote(s))
		} else {
			echo.WriteString(s)
		}
		hl.names = append(hl.names, s)
	}
	if len(hl.names) == 0 {
		return hl, fetchError("Invalid BODY[..] section")
	}
	hl.echo = echo.String()
	return hl, nil
}

// parsePartial reads an optional "<offset>" or "<offset.count>" right
// after ']'.
func parsePartial(d *imapwire.Decoder, it *fetchItem) error {
	var rest string
	if !d.Atom(&rest) {
		return d.Err()
	}
	p, ok := strings.CutPrefix(rest, "<")
	if !ok {
		return fetchError("Invalid BODY[..] parameter: Unexpected data after ']'")
	}
	p, ok = strings.CutSuffix(p, ">")
	if !ok {
		return fetchError("Invalid BODY[..] parameter: Missing '>' in partial")
	}
	off, cnt, hasCount := strings.Cut(p, ".")
	o, err := strconv.ParseInt(off, 10, 64)
	if err != nil || o < 0 || !isDigits(off) {
		return fetchError("Invalid BODY[..] parameter: Too big partial start")
	}
	it.partial, it.offset = true, o
	if hasCount {
		c, err := strconv.ParseInt(cnt, 10, 64)
		if err != nil || c < 0 || !isDigits(cnt) {
			return fetchError("Invalid BODY[..] parameter: Too big partial end")
		}
		it.count = c
	}
	it.label += "<" + strconv.FormatInt(o, 10) + ">"
	return nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// add appends an item unless it is a duplicate of a non-section item
// (Dovecot keeps one handler per such item).
func (req *fetchRequest) add(it fetchItem) {
	if it.kind != fetchSection && it.kind != fetchBinarySize && it.kind != fetchPreview {
		for _, o := range req.items {
			if o.kind == it.kind {
				return
			}
		}
	}
	if it.kind == fetchFlags {
		req.flags = true
	}
	req.items = append(req.items, it)
}

// insertBuffered adds a buffered item after the other buffered items
// (where Dovecot's handler registration puts it), unless present.
func (req *fetchRequest) insertBuffered(it fetchItem) {
	i := 0
	for ; i < len(req.items) && req.items[i].kind.buffered(); i++ {
		if req.items[i].kind == it.kind {
			return
		}
	}
	req.items = append(req.items[:i], append([]fetchItem{it}, req.items[i:]...)...)
}

// finish orders items as Dovecot sends them: buffered items first (in
// request order), then the rest (in request order). When \Seen may be set
// but FLAGS was not requested, Dovecot adds FLAGS at the end of the
// buffered items and shows it only where \Seen changed.
func (req *fetchRequest) finish() *fetchRequest {
	var buf, rest []fetchItem
	for _, it := range req.items {
		if it.kind.buffered() {
			buf = append(buf, it)
		} else {
			rest = append(rest, it)
		}
	}
	if req.setSeen && !req.flags {
		buf = append(buf, fetchItem{kind: fetchFlags})
	}
	req.items = append(buf, rest...)
	return req
}
