package sieve

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"roost/internal/message"

	"roost/internal/sieve/syntax"
)

func extSpecs() []*spec {
	var out []*spec
	out = append(out, basicExtSpecs()...)
	out = append(out, moreExtSpecs()...)
	out = append(out, extprogramsSpecs()...)
	out = append(out, vndSpecs()...)
	out = append(out, extlistsSpecs()...)
	out = append(out, metadataSpecs()...)
	return out
}

func basicExtSpecs() []*spec {
	fileTags := addTags(map[string]tagDef{
		"create":     {ext: "mailbox"},
		"specialuse": {param: aString, ext: "special-use"},
	}, "store", "copy")
	flagCmd := func(name string) *spec {
		return &spec{name: name, ext: "imap4flags", pos: []posDef{{aStringList, "variable name"}, {aStringList, "list of flags"}},
			optional: 1, check: checkFlagCmd, run: runFlagCmd}
	}
	return []*spec{
		{name: "fileinto", ext: "fileinto", tags: fileTags, pos: []posDef{{aString, "folder"}}, check: checkFileinto, run: runFileinto},
		{name: "reject", ext: "reject", pos: []posDef{{aString, "reason"}}, run: runReject},
		{name: "ereject", ext: "ereject", pos: []posDef{{aString, "reason"}}, run: runReject},
		{name: "set", ext: "variables", tags: map[string]tagDef{
			"lower": {group: "case"}, "upper": {group: "case"}, "lowerfirst": {group: "first"}, "upperfirst": {group: "first"},
			"quotewildcard": {}, "quoteregex": {ext: "regex"}, "length": {}, "encodeurl": {ext: "enotify"},
		}, pos: []posDef{{aString, "name"}, {aString, "value"}}, check: checkSet, run: runSet},
		{name: "string", ext: "variables", test: true, tags: addTags(nil, "comparator", "match"),
			pos: []posDef{{aStringList, "source"}, {aStringList, "key list"}}, eval: evalString},
		flagCmd("setflag"), flagCmd("addflag"), flagCmd("removeflag"),
		{name: "hasflag", ext: "imap4flags", test: true, tags: addTags(nil, "comparator", "match"),
			pos: []posDef{{aStringList, "variable list"}, {aStringList, "list of flags"}}, optional: 1, eval: evalHasflag},
		{name: "body", ext: "body", test: true, tags: addTags(map[string]tagDef{
			"raw": {group: "transform"}, "text": {group: "transform"}, "content": {param: aStringList, group: "transform"},
		}, "comparator", "match"), pos: []posDef{{aStringList, "key list"}}, eval: evalBody},
	}
}

func checkFileinto(v *validator, n *node) {
	s := n.pos[0].Strings[0]
	if !utf8.ValidString(s) {
		v.errorf(n.pos[0].Pos, "fileinto command: invalid folder name `%s' specified: invalid utf-8", strings.ToValidUTF8(s, "?"))
	}
	if a, ok := n.tags["specialuse"]; ok && len(a.Strings) > 0 {
		checkSpecialUseFlags(v, a, "fileinto command")
	}
}

// checkSpecialUseFlags rejects literal special-use flags that are not
// "\" followed by an atom (RFC 8579 section 3, RFC 6154).
func checkSpecialUseFlags(v *validator, a *syntax.Arg, what string) {
	for _, f := range a.Strings {
		if strings.Contains(f, "${") {
			continue
		}
		if len(f) < 2 || f[0] != '\\' || strings.ContainsAny(f[1:], "(){ %*\"]\\") || strings.ContainsFunc(f, func(c rune) bool { return c <= ' ' || c >= 0x7f }) {
			v.errorf(a.Pos, "%s: invalid special-use flag '%s' specified", what, f)
		}
	}
}

func checkSpecialUseExists(v *validator, n *node) {
	checkSpecialUseFlags(v, n.pos[len(n.pos)-1], "specialuse_exists test")
}

// canonicalInbox upper-cases INBOX, also as the first level of a
// hierarchical name ("Inbox.Junk", "inbox/Sent"), as IMAP stores do.
func canonicalInbox(box string) string {
	if len(box) >= 5 && strings.EqualFold(box[:5], "INBOX") && (len(box) == 5 || box[5] == '.' || box[5] == '/') {
		return "INBOX" + box[5:]
	}
	return box
}

func runFileinto(r *runner, n *node) error {
	box := r.pstr(n, 0)
	if !utf8.ValidString(box) {
		return r.errorf(n, "invalid folder name '%s'", box)
	}
	box = canonicalInbox(box)
	copyKeep := n.has("copy")
	if !copyKeep {
		r.cancel = true
	}
	su, _ := r.tstr(n, "specialuse")
	return r.add(n, &Action{Kind: ActStore, Mailbox: box, Flags: r.storeFlags(n), Create: n.has("create"), Copy: copyKeep, SpecialUse: su})
}

func runReject(r *runner, n *node) error {
	r.cancel = true
	return r.add(n, &Action{Kind: ActReject, Reason: r.pstr(n, 0), Ereject: n.spec.name == "ereject"})
}

func checkSet(v *validator, n *node) {
	name := n.pos[0].Strings[0]
	if rest, ok := strings.CutPrefix(strings.ToLower(name), "global."); ok && v.prog.required["include"] {
		switch {
		case strings.Contains(rest, "."):
			v.errorf(n.pos[0].Pos, "invalid variable name within global namespace: encountered sub-namespace")
			return
		case rest != "" && rest[0] >= '0' && rest[0] <= '9':
			v.errorf(n.pos[0].Pos, "invalid variable name within global namespace: encountered numeric variable name")
			return
		}
	}
	if validVarRef(name) && name[0] >= '0' && name[0] <= '9' {
		v.errorf(n.pos[0].Pos, "cannot assign to match variable")
		return
	}
	if !validVarRef(name) {
		v.errorf(n.pos[0].Pos, "invalid variable name '%s'", name)
		return
	}
	v.declareVar(n.pos[0].Pos, name)
}

// maxVarNameLen and maxMatchIndex are Pigeonhole's
// EXT_VARIABLES_MAX_VARIABLE_NAME_LEN and EXT_VARIABLES_MAX_MATCH_INDEX.
const (
	maxVarNameLen = 64
	maxMatchIndex = 32
)

// sanitize shortens s to max bytes with "..." as Pigeonhole's messages
// do (Dovecot's str_sanitize).
func sanitize(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[:max-3] + "..."
}

// varScope is what the validator knows of the script's variables:
// the local ones assigned, those declared global, and whether the scope
// limit was reported.
type varScope struct {
	local, global map[string]bool
	overflow      bool
}

// declareVar checks an assigned variable name: its length, its namespace
// (only "global." with include) and the scope size limit.
func (v *validator) declareVar(p syntax.Pos, name string) {
	lname := strings.ToLower(name)
	if len(name) > maxVarNameLen {
		v.errorf(p, "invalid variable name '%s'", sanitize(name, 80))
		return
	}
	if ns, rest, ok := strings.Cut(lname, "."); ok {
		if !v.knownNamespace(ns, rest) {
			v.errorf(p, "referring to variable in unknown namespace '%s'", ns)
		}
		return
	}
	if v.vars.local == nil {
		v.vars.local = map[string]bool{}
	}
	if v.vars.global[lname] {
		return
	}
	v.vars.local[lname] = true
	max := v.cfg.VariablesMaxScopeSize
	if max <= 0 {
		max = MaxVariables
	}
	if len(v.vars.local) > max && !v.vars.overflow {
		v.vars.overflow = true
		v.errorf(p, "(implicit) declaration of new variable '%s' exceeds the limit (max variables: %d)", name, max)
	}
}

// checkVarRefs checks the variable references in a command's strings:
// match indexes beyond 32 and unknown namespaces are errors.
func (v *validator) checkVarRefs(n *node) {
	for _, a := range n.Args {
		for _, s := range a.Strings {
			for rest := s; ; {
				i := strings.Index(rest, "${")
				if i < 0 {
					break
				}
				rest = rest[i+2:]
				j := strings.IndexByte(rest, '}')
				if j < 0 {
					break
				}
				v.checkVarRef(a.Pos, strings.TrimSpace(rest[:j]))
			}
		}
	}
}

// knownNamespace reports whether ns.rest names a variable of a namespace
// a required extension provides: "global" (include, one element) or the
// test suite's "tst".
func (v *validator) knownNamespace(ns, rest string) bool {
	switch ns {
	case "global":
		return v.prog.required["include"] && !strings.Contains(rest, ".")
	case "tst":
		return v.prog.required["vnd.dovecot.testsuite"]
	case "env":
		return v.prog.required["vnd.dovecot.environment"]
	}
	return false
}

func (v *validator) checkVarRef(p syntax.Pos, ref string) {
	if !validVarRef(ref) {
		return
	}
	if ref[0] >= '0' && ref[0] <= '9' {
		if idx, err := strconv.Atoi(ref); err != nil || idx > maxMatchIndex {
			v.errorf(p, "match value index %s out of range (max: %d)", ref, maxMatchIndex)
		}
		return
	}
	if ns, rest, ok := strings.Cut(strings.ToLower(ref), "."); ok && !v.knownNamespace(ns, rest) {
		v.errorf(p, "referring to variable in unknown namespace '%s'", ns)
	}
}

func runSet(r *runner, n *node) error {
	val := r.pstr(n, 1)
	// RFC 5229 section 4.1: precedence order
	if n.has("lower") {
		val = strings.ToLower(val)
	}
	if n.has("upper") {
		val = strings.ToUpper(val)
	}
	if n.has("lowerfirst") && val != "" {
		ru, sz := utf8.DecodeRuneInString(val)
		val = string(unicode.ToLower(ru)) + val[sz:]
	}
	if n.has("upperfirst") && val != "" {
		ru, sz := utf8.DecodeRuneInString(val)
		val = string(unicode.ToUpper(ru)) + val[sz:]
	}
	// quoting modifiers stop before a character whose escaped form would
	// cross the variable size limit, as Pigeonhole's do
	max := r.maxVarSize()
	if n.has("quotewildcard") {
		val = escapeLimited(val, max, func(c rune) bool { return c == '\\' || c == '*' || c == '?' }, backslashed)
	}
	if n.has("quoteregex") {
		val = escapeLimited(val, max, func(c rune) bool { return strings.ContainsRune(`\^$.[]|()?*+{}`, c) }, backslashed)
	}
	if n.has("encodeurl") {
		val = escapeLimited(val, max, func(c rune) bool { return c >= utf8.RuneSelf || url.QueryEscape(string(c)) != string(c) }, percentEncoded)
	}
	if n.has("length") {
		val = fmt.Sprint(utf8.RuneCountInString(val))
	}
	r.setVar(n.pos[0].Strings[0], val)
	return nil
}

// escapeLimited escapes the characters special selects with esc, ending
// before the first character that would make the result longer than max
// bytes.
func escapeLimited(s string, max int, special func(rune) bool, esc func(string) string) string {
	var b strings.Builder
	for i, c := range s {
		unit := s[i : i+utf8.RuneLen(c)]
		if c == utf8.RuneError {
			_, n := utf8.DecodeRuneInString(s[i:])
			unit = s[i : i+n]
		}
		if special(c) {
			unit = esc(unit)
		}
		if max > 0 && b.Len()+len(unit) > max {
			break
		}
		b.WriteString(unit)
	}
	return b.String()
}

func backslashed(s string) string { return `\` + s }

func percentEncoded(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}

func quoteRegex(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`\^$.[]|()?*+{}`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func evalString(r *runner, n *node) (bool, error) {
	src := r.strs(n.pos[0])
	if n.match.typ == "count" {
		var nonEmpty []string
		for _, s := range src {
			if s != "" {
				nonEmpty = append(nonEmpty, s)
			}
		}
		src = nonEmpty
	}
	return r.matchKeys(n, src, n.pos[1])
}

func checkFlagCmd(v *validator, n *node) {
	if len(n.pos) == 2 {
		for _, s := range n.pos[0].Strings {
			if !validVarRef(s) {
				v.errorf(n.pos[0].Pos, "invalid variable name '%s'", s)
			}
		}
		if !v.prog.required["variables"] {
			v.errorf(n.Pos, "the %s command requires the variables extension for a variable name argument", n.spec.name)
		}
	}
}

func (r *runner) getFlags(name string) string {
	if name == "" {
		return r.flags
	}
	return r.lookupVar(name)
}

func (r *runner) putFlags(name, val string) {
	if name == "" {
		r.flags = val
		return
	}
	r.setVar(name, val)
}

func runFlagCmd(r *runner, n *node) error {
	var names []string
	list := n.pos[0]
	if len(n.pos) == 2 {
		names = r.strs(n.pos[0])
		list = n.pos[1]
	} else {
		names = []string{""}
	}
	var flags []string
	for _, s := range r.strs(list) {
		flags = mergeFlags(flags, flagList(s))
	}
	for _, name := range names {
		cur := flagList(r.getFlags(name))
		switch n.spec.name {
		case "setflag":
			cur = flags
		case "addflag":
			cur = mergeFlags(cur, flags)
		case "removeflag":
			var keep []string
			for _, f := range cur {
				if !containsFold(flags, f) {
					keep = append(keep, f)
				}
			}
			cur = keep
		}
		r.putFlags(name, strings.Join(cur, " "))
	}
	return nil
}

func evalHasflag(r *runner, n *node) (bool, error) {
	var values []string
	keys := n.pos[0]
	if len(n.pos) == 2 {
		for _, name := range r.strs(n.pos[0]) {
			values = append(values, flagList(r.getFlags(name))...)
		}
		keys = n.pos[1]
	} else {
		values = flagList(r.flags)
	}
	if n.match.typ == "count" || n.match.typ == "value" {
		return r.matchKeys(n, values, keys)
	}
	// RFC 5232 section 5: keys are flag lists too
	var ks []string
	for _, k := range r.strs(keys) {
		ks = append(ks, flagList(k)...)
	}
	m := &matcher{spec: n.match}
	ok := m.match(values, ks)
	if ok && m.values != nil && r.prog.required["variables"] {
		r.matchVal = m.values
	}
	return ok, nil
}

// evalBody implements RFC 5173.
func evalBody(r *runner, n *node) (bool, error) {
	var texts []string
	switch {
	case n.has("raw"):
		raw := r.currentRaw()
		if body := raw[min(int(r.root.Header.Physical), len(raw)):]; len(body) > 0 {
			texts = []string{string(body)}
		}
	case n.has("content"):
		texts = r.bodyParts(r.strs(n.tags["content"]), false)
	default:
		texts = r.bodyParts([]string{"text", "application/xhtml+xml"}, true)
	}
	saved := r.matchVal // RFC 5173 section 4: body sets no match variables
	ok, err := r.matchKeys(n, texts, n.pos[0])
	r.matchVal = saved
	return ok, err
}

// bodyParts returns the texts of the parts whose content type matches one
// of types ("" matches all, "text" a type, "text/plain" both; RFC 5173
// section 5): a leaf's decoded body (HTML reduced to text when asText),
// a multipart's prologue and epilogue, a message/rfc822's header.
func (r *runner) bodyParts(types []string, asText bool) []string {
	var out []string
	r.root.Walk(func(p *message.Part) {
		typ, sub := partType(p)
		if r.malformedContentType(p) {
			typ, sub = "application", "octet-stream" // as Pigeonhole: not text
		}
		if !contentMatches(types, typ, sub) || asText && (p.Is(message.FlagMultipart) || p.Is(message.FlagMessageRFC822)) {
			return
		}
		var txt string
		switch {
		case p.Is(message.FlagMultipart):
			txt = r.multipartText(p)
		case p.Is(message.FlagMessageRFC822) && len(p.Children) == 1:
			c := p.Children[0]
			h := r.raw[c.Offset:min(int(c.Offset+c.Header.Physical), len(r.raw))]
			txt = strings.TrimSuffix(strings.TrimSuffix(string(h), "\n"), "\r")
			if !strings.HasSuffix(txt, "\n") && txt != "" {
				txt += "\n"
			}
		default:
			body, err := message.DecodeBodyPart(r.raw, p)
			if err != nil {
				return
			}
			txt = string(body)
			if asText && (sub == "html" || sub == "xhtml+xml") {
				txt = stripHTML(txt)
			}
		}
		if txt != "" {
			out = append(out, txt)
		}
	})
	return out
}

func contentMatches(types []string, typ, sub string) bool {
	for _, t := range types {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" || t == typ || t == typ+"/"+sub {
			return true
		}
	}
	return false
}

// multipartText is a multipart's body without its children: the
// prologue, the boundaries and the epilogue.
func (r *runner) multipartText(p *message.Part) string {
	var b strings.Builder
	pos := p.BodyOffset()
	for _, c := range p.Children {
		if c.Offset > pos && int(c.Offset) <= len(r.raw) {
			b.Write(r.raw[pos:c.Offset])
		}
		pos = max(pos, c.End())
	}
	if end := min(p.End(), int64(len(r.raw))); end > pos {
		b.Write(r.raw[pos:end])
	}
	boundary := ""
	for _, prm := range p.Content.Params {
		if strings.EqualFold(prm.Name, "boundary") {
			boundary = "--" + prm.Value
		}
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		l := strings.TrimRight(line, "\r\n \t")
		if boundary != "" && (l == boundary || l == boundary+"--") {
			continue
		}
		out.WriteString(line)
	}
	return out.String()
}

// malformedContentType reports a Content-Type whose type/subtype has a
// second slash ("text/plain/stupid"), which roost's MIME parser salvages
// but Pigeonhole does not.
func (r *runner) malformedContentType(p *message.Part) bool {
	val, ok := message.FieldValue(r.partHeader(p), "content-type")
	if !ok {
		return false
	}
	main, _, _ := strings.Cut(string(val), ";")
	return strings.Count(main, "/") > 1
}

func partType(p *message.Part) (string, string) {
	c := p.Content
	if c.Type == nil || c.Subtype == nil || *c.Type == "" {
		if p.Parent != nil && p.Parent.Is(message.FlagMultipartDigest) {
			return "message", "rfc822"
		}
		return "text", "plain"
	}
	return strings.ToLower(*c.Type), strings.ToLower(*c.Subtype)
}

func stripHTML(s string) string {
	var b strings.Builder
	in := false
	for _, c := range s {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(c)
		}
	}
	return b.String()
}
