package imapserver

import (
	"strings"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// maxSearchDepth bounds nesting of parentheses, NOT and OR.
const maxSearchDepth = 100

// searchOp is the operation of one search key (RFC 3501 section 6.4.4).
type searchOp int

const (
	opAnd searchOp = iota // sub: all must match (ALL is an empty AND)
	opOr                  // sub[0] or sub[1]
	opNot                 // not sub[0]
	opSeqSet
	opUIDSet
	opFlag    // str: a system flag the message has
	opKeyword // str: a keyword the message has
	opRecent
	opBefore // internal date, date part
	opOn
	opSince
	opSentBefore // Date: header, in its own zone
	opSentOn
	opSentSince
	opLarger
	opSmaller
	opHeader // field, str
	opBody
	opText
	opModSeq
	opOlder       // RFC 5032: internal date older than num seconds
	opYounger     // RFC 5032
	opSaved       // $: the saved result (RFC 5182)
	opSavedBefore // RFC 8514: save date, date part
	opSavedOn
	opSavedSince
)

// searchKey is one node of a parsed search program.
type searchKey struct {
	op    searchOp
	sub   []*searchKey
	set   imap.SeqSet
	str   string // search string (UTF-8), flag or keyword
	field string // HEADER field name
	// folded is str folded for matching; hdrKind how a header key reads
	// the field (opHeader).
	folded  string
	hdrKind headerKind
	date    time.Time
	num     uint64
}

// searchError is a SEARCH syntax error: the dispatcher answers "BAD
// Error in IMAP command UID SEARCH: msg".
func searchError(_, msg string) error {
	return &imapwire.SyntaxError{Msg: msg}
}

// searchParser reads search keys from a decoder.
type searchParser struct {
	d     *imapwire.Decoder
	cmd   string            // command name for errors, e.g. "UID SEARCH"
	conv  *encoding.Decoder // CHARSET conversion, nil for UTF-8/US-ASCII
	depth int
	// ret is set when the command may carry RETURN (...) (RFC 4731)
	// and receives the options; returned reports that it did.
	ret      *imap.SearchReturn
	returned bool
	utf8Only bool // UTF8=ACCEPT: CHARSET must be UTF-8 (feature_utf8.go)
}

// parseSearch reads "[CHARSET cs] key *(SP key)" up to (not including)
// the CRLF and returns the keys as one AND node.
func parseSearch(d *imapwire.Decoder, cmd string) (*searchKey, error) {
	return (&searchParser{d: d, cmd: cmd}).program()
}

// parseSearchCharset reads "charset SP key *(SP key)": SORT and THREAD
// name the charset without the CHARSET keyword (RFC 5256); with utf8Only
// (UTF8=ACCEPT) it must be UTF-8.
func parseSearchCharset(d *imapwire.Decoder, cmd string, utf8Only bool) (*searchKey, error) {
	p := &searchParser{d: d, cmd: cmd, utf8Only: utf8Only}
	var cs string
	if !d.ExpectAString(&cs) || !d.ExpectSP() {
		return nil, d.Err()
	}
	if err := checkSearchCharset(p.utf8Only, p.cmd, cs); err != nil {
		return nil, err
	}
	if err := p.setCharset(cs); err != nil {
		return nil, err
	}
	first, err := p.key()
	if err != nil {
		return nil, err
	}
	return p.rest(first)
}

func (p *searchParser) program() (*searchKey, error) {
	first, err := p.keyOrCharset()
	if err != nil {
		return nil, err
	}
	return p.rest(first)
}

// rest reads the keys after the first one.
func (p *searchParser) rest(first *searchKey) (*searchKey, error) {
	d := p.d
	root := &searchKey{op: opAnd, sub: []*searchKey{first}}
	for d.SP() {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		root.sub = append(root.sub, k)
	}
	if d.Err() != nil {
		return nil, d.Err()
	}
	return root, nil
}

// keyOrCharset handles a leading CHARSET, then reads the first key.
func (p *searchParser) keyOrCharset() (*searchKey, error) {
	atom := readAtomStar(p.d)
	if p.d.Err() != nil {
		return nil, p.d.Err()
	}
	if p.ret != nil && !p.returned && strings.EqualFold(atom, "RETURN") {
		if err := p.returnOptions(); err != nil {
			return nil, err
		}
		return p.keyOrCharset()
	}
	if !strings.EqualFold(atom, "CHARSET") {
		return p.keyFromAtom(atom)
	}
	var cs string
	if !p.d.ExpectSP() || !p.d.ExpectAString(&cs) || !p.d.ExpectSP() {
		return nil, p.d.Err()
	}
	if err := checkSearchCharset(p.utf8Only, p.cmd, cs); err != nil {
		return nil, err
	}
	if err := p.setCharset(cs); err != nil {
		return nil, err
	}
	return p.key()
}

// setCharset selects the conversion of search strings. Unknown charsets
// are NO [BADCHARSET] (RFC 3501 section 6.4.4).
func (p *searchParser) setCharset(cs string) error {
	switch strings.ToUpper(cs) {
	case "UTF-8", "US-ASCII", "UTF8":
		return nil
	}
	enc, err := htmlindex.Get(cs)
	if err != nil || enc == nil {
		enc, err = ianaindex.MIME.Encoding(cs)
	}
	if err != nil || enc == nil {
		return no("BADCHARSET", "Unknown charset.") // Dovecot: bare code, no name
	}
	p.conv = enc.NewDecoder()
	return nil
}

// asciiOnly keeps client text printable in a response line.
func asciiOnly(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

func (p *searchParser) key() (*searchKey, error) {
	atom := readAtomStar(p.d)
	if p.d.Err() != nil {
		return nil, p.d.Err()
	}
	return p.keyFromAtom(atom)
}

// readAtomStar reads an atom that may contain '*' (a sequence set such
// as "1:*" is not an atom, since '*' is a list wildcard).
func readAtomStar(d *imapwire.Decoder) string {
	var b strings.Builder
	for {
		var a string
		switch {
		case d.Atom(&a):
			b.WriteString(a)
		case d.Err() == nil && d.Special('*'):
			b.WriteByte('*')
		default:
			return b.String()
		}
	}
}

// argSearchKeys are the keys that take arguments.
var argSearchKeys = map[string]bool{
	"NOT": true, "OR": true, "BEFORE": true, "ON": true, "SINCE": true, "SENTBEFORE": true,
	"SENTON": true, "SENTSINCE": true, "LARGER": true, "SMALLER": true, "MODSEQ": true,
	"OLDER": true, "YOUNGER": true, "SAVEDBEFORE": true, "SAVEDON": true, "SAVEDSINCE": true, "UID": true, "KEYWORD": true, "UNKEYWORD": true,
	"FROM": true, "TO": true, "CC": true, "BCC": true, "SUBJECT": true, "HEADER": true,
	"BODY": true, "TEXT": true,
}

// keyFromAtom parses one key whose leading atom was already read ("" for
// none: a parenthesised list or garbage).
func (p *searchParser) keyFromAtom(atom string) (*searchKey, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxSearchDepth {
		return nil, searchError(p.cmd, "Search arguments nested too deeply")
	}
	if atom == "" {
		return p.list()
	}
	up := strings.ToUpper(atom)
	if atom == "$" {
		return &searchKey{op: opSaved}, nil
	}
	if k, ok := simpleSearchKeys(up); ok {
		return k, nil
	}
	if c := up[0]; c == '*' || (c >= '0' && c <= '9') {
		set, err := imap.ParseSeqSet(atom)
		if err != nil {
			return nil, searchError(p.cmd, "Invalid messageset")
		}
		return &searchKey{op: opSeqSet, set: set}, nil
	}
	if !argSearchKeys[up] {
		return nil, searchError(p.cmd, "Unknown argument "+asciiOnly(up))
	}
	if !p.d.SP() {
		return nil, p.missing(up)
	}
	return p.keyWithArgs(up)
}

// list reads "(" key *(SP key) ")".
func (p *searchParser) list() (*searchKey, error) {
	if !p.d.Special('(') {
		if p.d.Err() != nil {
			return nil, p.d.Err()
		}
		return nil, searchError(p.cmd, "Missing argument")
	}
	and := &searchKey{op: opAnd}
	for {
		k, err := p.key()
		if err != nil {
			return nil, err
		}
		and.sub = append(and.sub, k)
		if p.d.Special(')') {
			return and, nil
		}
		if !p.d.SP() {
			if p.d.Err() != nil {
				return nil, p.d.Err()
			}
			return nil, searchError(p.cmd, "Missing ')'")
		}
	}
}

func (p *searchParser) missing(key string) error {
	if p.d.Err() != nil {
		if _, ok := p.d.Err().(*imapwire.SyntaxError); !ok {
			return p.d.Err()
		}
	}
	return searchError(p.cmd, "Missing argument for "+key)
}

// simpleSearchKeys returns the keys without arguments.
func simpleSearchKeys(up string) (*searchKey, bool) {
	flag := func(f string) *searchKey { return &searchKey{op: opFlag, str: f} }
	not := func(k *searchKey) *searchKey { return &searchKey{op: opNot, sub: []*searchKey{k}} }
	switch up {
	case "ALL":
		return &searchKey{op: opAnd}, true
	case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN":
		return flag(systemFlagFor(up)), true
	case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN":
		return not(flag(systemFlagFor(up[2:]))), true
	case "RECENT":
		return &searchKey{op: opRecent}, true
	case "OLD":
		return not(&searchKey{op: opRecent}), true
	case "SAVEDATESUPPORTED": // RFC 8514: every mailbox keeps save dates
		return &searchKey{op: opAnd}, true
	case "NEW":
		return &searchKey{op: opAnd, sub: []*searchKey{{op: opRecent}, not(flag(storage.FlagSeen))}}, true
	}
	return nil, false
}

func systemFlagFor(name string) string {
	return `\` + name[:1] + strings.ToLower(name[1:])
}

// keyWithArgs parses a key that takes arguments; the SP after the key
// was read.
func (p *searchParser) keyWithArgs(up string) (*searchKey, error) {
	d := p.d
	k := &searchKey{}
	switch up {
	case "NOT":
		sub, err := p.key()
		if err != nil {
			return nil, err
		}
		return &searchKey{op: opNot, sub: []*searchKey{sub}}, nil
	case "OR":
		a, err := p.key()
		if err != nil {
			return nil, err
		}
		if !d.ExpectSP() {
			return nil, p.missing(up)
		}
		b, err := p.key()
		if err != nil {
			return nil, err
		}
		return &searchKey{op: opOr, sub: []*searchKey{a, b}}, nil
	case "BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE":
		k.op = map[string]searchOp{"BEFORE": opBefore, "ON": opOn, "SINCE": opSince,
			"SENTBEFORE": opSentBefore, "SENTON": opSentOn, "SENTSINCE": opSentSince,
			"SAVEDBEFORE": opSavedBefore, "SAVEDON": opSavedOn, "SAVEDSINCE": opSavedSince}[up]
		if !d.ExpectDate(&k.date) {
			return nil, searchError(p.cmd, "Invalid search date parameter")
		}
		return k, nil
	case "MODSEQ":
		if !p.modSeqEntry() {
			return nil, searchError(p.cmd, "Invalid search MODSEQ parameter")
		}
		k.op = opModSeq
		if !d.ExpectNumber64(&k.num) {
			return nil, searchError(p.cmd, "Invalid search number parameter")
		}
		return k, nil
	case "LARGER", "SMALLER", "OLDER", "YOUNGER":
		k.op = map[string]searchOp{"LARGER": opLarger, "SMALLER": opSmaller, "MODSEQ": opModSeq,
			"OLDER": opOlder, "YOUNGER": opYounger}[up]
		if !d.ExpectNumber64(&k.num) {
			return nil, searchError(p.cmd, "Invalid search number parameter")
		}
		return k, nil
	case "UID":
		set, err := imap.ParseSeqSet(readAtomStar(d))
		if err != nil {
			return nil, searchError(p.cmd, "Invalid uidset")
		}
		return &searchKey{op: opUIDSet, set: set}, nil
	case "KEYWORD", "UNKEYWORD":
		if !d.ExpectAString(&k.str) {
			return nil, p.missing(up)
		}
		k.op = opKeyword
		if c, ok := imap.CanonicalFlag(k.str); ok && imap.IsSystemFlag(c) {
			k.op, k.str = opFlag, c
		}
		if up == "UNKEYWORD" {
			return &searchKey{op: opNot, sub: []*searchKey{k}}, nil
		}
		return k, nil
	}
	return p.stringKey(up)
}

// stringKey parses the keys whose argument is a search string.
func (p *searchParser) stringKey(up string) (*searchKey, error) {
	k := &searchKey{op: opHeader}
	switch up {
	case "FROM", "TO", "CC", "BCC":
		k.field, k.hdrKind = up, hdrAddress
	case "SUBJECT":
		k.field, k.hdrKind = up, hdrLWSP
	case "HEADER":
		if !p.d.ExpectAString(&k.field) || !p.d.ExpectSP() {
			return nil, p.missing(up)
		}
	case "BODY":
		k.op = opBody
	case "TEXT":
		k.op = opText
	default:
		return nil, searchError(p.cmd, "Unknown argument "+asciiOnly(up))
	}
	var s string
	if !p.d.ExpectAString(&s) {
		return nil, p.missing(up)
	}
	if p.conv != nil {
		if out, err := p.conv.String(s); err == nil {
			s = out
		}
	}
	k.str, k.folded = s, fold(s)
	return k, nil
}

// modSeqEntry skips MODSEQ's optional entry-name and entry-type-req (RFC
// 7162 section 3.1.5): roost, like Dovecot, keeps one MODSEQ per message,
// so the entry does not narrow the search. It returns false on bad syntax.
func (p *searchParser) modSeqEntry() bool {
	var entry string
	if !p.d.String(&entry) {
		return p.d.Err() == nil
	}
	var typ string
	if !p.d.ExpectSP() || !p.d.ExpectAtom(&typ) || !p.d.ExpectSP() {
		return false
	}
	switch strings.ToLower(typ) {
	case "priv", "shared", "all":
		return true
	}
	return false
}

// hasModSeqKey reports whether a program uses MODSEQ, which makes SEARCH
// report the highest MODSEQ of its result (RFC 7162 section 3.1.5).
func hasModSeqKey(k *searchKey) bool {
	if k.op == opModSeq {
		return true
	}
	for _, s := range k.sub {
		if hasModSeqKey(s) {
			return true
		}
	}
	return false
}

// returnOptions reads " (opt *(SP opt)) SP" after RETURN (RFC 4731
// section 3.1, RFC 5182 SAVE, RFC 5267 PARTIAL).
func (p *searchParser) returnOptions() error {
	d := p.d
	p.returned = true
	if !d.ExpectSP() {
		return d.Err()
	}
	var bad, badMsg string
	ok := d.ExpectList(func() bool {
		var opt string
		if !d.ExpectAtom(&opt) {
			return false
		}
		switch strings.ToUpper(opt) {
		case "MIN":
			p.ret.Min = true
		case "MAX":
			p.ret.Max = true
		case "ALL":
			p.ret.All = true
		case "COUNT":
			p.ret.Count = true
		case "SAVE":
			p.ret.Save = true
		default:
			if known, msg := p.contextOption(strings.ToUpper(opt)); known {
				badMsg = msg
				return msg == ""
			}
			bad = opt
			return false
		}
		return true
	})
	if bad != "" {
		return searchError(p.cmd, "Unknown RETURN option "+asciiOnly(bad))
	}
	if badMsg != "" {
		return searchError(p.cmd, badMsg)
	}
	if !ok || !d.ExpectSP() {
		return d.Err()
	}
	return p.contextCheck()
}
