package sieve

import (
	"strings"

	"roost/internal/message"
)

func coreSpecs() []*spec {
	return []*spec{
		{name: "if", subtests: 1, block: true},
		{name: "elsif", subtests: 1, block: true},
		{name: "else", block: true},
		{name: "stop", run: func(*runner, *node) error { return flowStop{} }},
		{name: "keep", tags: addTags(nil, "store"), run: runKeep},
		{name: "discard", run: runDiscard},
		{name: "redirect", tags: addTags(nil, "copy"), pos: []posDef{{aString, "address"}}, check: checkRedirect, run: runRedirect},
		{name: "true", test: true, eval: func(*runner, *node) (bool, error) { return true, nil }},
		{name: "false", test: true, eval: func(*runner, *node) (bool, error) { return false, nil }},
		{name: "not", test: true, subtests: 1, eval: func(r *runner, n *node) (bool, error) {
			ok, err := r.test(n.tests[0])
			return !ok, err
		}},
		{name: "anyof", test: true, subtests: -1, eval: evalAnyof},
		{name: "allof", test: true, subtests: -1, eval: evalAllof},
		{name: "exists", test: true, tags: addTags(nil, "mime"), pos: []posDef{{aStringList, "header names"}}, check: checkHeaderTest, eval: evalExists},
		{name: "header", test: true, tags: addTags(nil, "comparator", "match", "index", "mime", "mimeopts"),
			pos: []posDef{{aStringList, "header names"}, {aStringList, "key list"}}, check: checkHeaderTest, eval: evalHeader},
		{name: "address", test: true, tags: addTags(nil, "comparator", "match", "addrpart", "index", "mime"),
			pos: []posDef{{aStringList, "header list"}, {aStringList, "key list"}}, check: checkAddress, eval: evalAddress},
		{name: "envelope", ext: "envelope", test: true, tags: addTags(nil, "comparator", "match", "addrpart"),
			pos: []posDef{{aStringList, "envelope part"}, {aStringList, "key list"}}, check: checkEnvelope, eval: evalEnvelope},
		{name: "size", test: true, tags: map[string]tagDef{"over": {param: aNone, group: "size"}, "under": {param: aNone, group: "size"}},
			pos: []posDef{{aNumber, "limit"}}, check: checkSize, eval: evalSize},
	}
}

func evalAnyof(r *runner, n *node) (bool, error) {
	for _, t := range n.tests {
		ok, err := r.test(t)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func evalAllof(r *runner, n *node) (bool, error) {
	for _, t := range n.tests {
		ok, err := r.test(t)
		if err != nil || !ok {
			return ok, err
		}
	}
	return true, nil
}

func checkSize(v *validator, n *node) {
	if !n.has("over") && !n.has("under") {
		v.errorf(n.Pos, "the size test requires either the :under or the :over tag to be specified")
	}
}

func evalSize(r *runner, n *node) (bool, error) {
	size := uint64(len(r.currentRaw()))
	limit := n.pos[0].Number
	if n.has("over") {
		return size > limit, nil
	}
	return size < limit, nil
}

// fieldsFor returns the header fields the test looks at: the message's, the
// current MIME part's (foreverypart) or every part's (:mime :anychild).
func (r *runner) fieldsFor(n *node) [][]message.Field {
	if !n.has("mime") {
		return [][]message.Field{r.hdr}
	}
	part := r.root
	if len(r.parts) > 0 {
		part = r.parts[len(r.parts)-1]
	}
	if !n.has("anychild") {
		return [][]message.Field{r.partHeader(part)}
	}
	var out [][]message.Field
	part.Walk(func(p *message.Part) { out = append(out, r.partHeader(p)) })
	return out
}

func (r *runner) partHeader(p *message.Part) []message.Field {
	if p == r.root {
		return r.hdr
	}
	end := p.Offset + p.Header.Physical
	if end > int64(len(r.raw)) || p.Offset < 0 {
		return nil
	}
	return message.ParseHeader(r.raw[p.Offset:end])
}

// evalExists is true when every named field exists: in the header
// looked at, or with :anychild in any one of the parts (each name on its
// own, as Pigeonhole).
func evalExists(r *runner, n *node) (bool, error) {
	headers := r.fieldsFor(n)
	for _, name := range r.strs(n.pos[0]) {
		found := false
		for _, fields := range headers {
			if _, ok := message.FieldValue(fields, name); ok {
				found = true
				break
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

func evalHeader(r *runner, n *node) (bool, error) {
	names := r.strs(n.pos[0])
	for _, fields := range r.fieldsFor(n) {
		var values []string
		if n.has("mime") && (n.has("type") || n.has("subtype") || n.has("contenttype") || n.has("param")) {
			values = r.mimeValues(n, fields, names)
		} else {
			values = r.indexed(n, r.headerValues(fields, names))
		}
		ok, err := r.matchKeys(n, values, n.pos[1])
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

// addressHeaders are the fields the address test accepts (RFC 5228 section
// 5.1: "headers that contain addresses"): the set Pigeonhole 0.5 accepts,
// probed with its sievec.
var addressHeaders = map[string]bool{
	"from": true, "sender": true, "to": true, "cc": true, "bcc": true, "reply-to": true,
	"resent-from": true, "resent-sender": true, "resent-to": true, "resent-cc": true, "resent-bcc": true,
	"resent-reply-to": true, "delivered-to": true, "x-original-to": true, "errors-to": true,
	"apparently-to": true, "mail-followup-to": true, "mail-reply-to": true, "x-beenthere": true,
	"x-complaints-to": true, "x-admin": true, "abuse-reports-to": true, "x-report-abuse-to": true,
	"return-receipt-to": true, "x-confirm-reading-to": true, "registered-mail-reply-requested-by": true,
}

// checkIndexTags checks the index extension's tags (RFC 5260 section
// 6): :last needs :index, and :index counts from 1.
func checkIndexTags(v *validator, n *node) {
	a, ok := n.tags["index"]
	switch {
	case !ok && n.has("last") && n.spec.tags["index"].ext == "index":
		v.errorf(n.tags["last"].Pos, "the :last tag for the %s test cannot be specified without the :index tag", n.Name)
	case ok && a.Number == 0:
		v.errorf(a.Pos, "the :index tag for the %s test cannot be zero", n.Name)
	}
}

// checkMimeTags rejects the mime extension's :anychild, :type,
// :subtype, :contenttype and :param without :mime (RFC 5703 section 4).
func checkMimeTags(v *validator, n *node) {
	checkIndexTags(v, n)
	if n.has("mime") {
		return
	}
	for _, t := range []string{"anychild", "type", "subtype", "contenttype", "param"} {
		if a, ok := n.tags[t]; ok {
			v.errorf(a.Pos, "the :%s tag for the %s test cannot be specified without the :mime tag", t, n.Name)
			return
		}
	}
}

func checkAddress(v *validator, n *node) {
	checkMimeTags(v, n)
	if hasVariable(n.pos[0].Strings) {
		return
	}
	warnHeaderNames(v, n)
	for _, h := range n.pos[0].Strings {
		if !addressHeaders[strings.ToLower(h)] {
			v.errorf(n.pos[0].Pos, "specified header '%s' is not allowed for the address test", h)
		}
	}
}

// checkHeaderTest checks header and exists: MIME tags, and a warning for
// header names that are not valid field names (Pigeonhole's: the test
// then never matches them).
func checkHeaderTest(v *validator, n *node) {
	checkMimeTags(v, n)
	if !hasVariable(n.pos[0].Strings) {
		warnHeaderNames(v, n)
	}
}

func warnHeaderNames(v *validator, n *node) {
	for _, h := range n.pos[0].Strings {
		if !validHeaderName(h) {
			v.warnf(n.pos[0].Pos, "specified header field name '%s' is invalid", h)
		}
	}
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 127 || s[i] == ':' {
			return false
		}
	}
	return true
}

// addr is one parsed address.
type addr struct {
	local, domain string
	valid         bool
	raw           string
}

func parseAddresses(value []byte) []addr {
	var out []addr
	for _, a := range message.ParseAddressList(value) {
		if a.Domain == nil {
			continue // group start or end
		}
		x := addr{valid: !a.InvalidSyntax}
		if a.Mailbox != nil {
			x.local = *a.Mailbox
		}
		x.domain = *a.Domain
		if x.local == "MISSING_MAILBOX" || x.domain == "MISSING_DOMAIN" || x.domain == "SYNTAX_ERROR" {
			x.valid = false
		}
		out = append(out, x)
	}
	return out
}

// addressPart extracts the node's address part from a; ok is false when
// the part does not exist (no detail).
func (r *runner) addressPart(n *node, a addr) (string, bool) {
	switch n.part {
	case "localpart":
		return a.local, true
	case "domain":
		return a.domain, true
	case "user", "detail":
		delims := r.delimiter()
		i := -1
		if delims != "" {
			i = strings.IndexAny(a.local, delims)
		}
		if n.part == "user" {
			if i < 0 {
				return a.local, true
			}
			return a.local[:i], true
		}
		if i < 0 {
			return "", false
		}
		return a.local[i+1:], true
	}
	if a.domain == "" {
		return a.local, true
	}
	return a.local + "@" + a.domain, true
}

func (r *runner) delimiter() string {
	return r.cfg.RecipientDelimiter
}

func evalAddress(r *runner, n *node) (bool, error) {
	names := r.strs(n.pos[0])
	for _, fields := range r.fieldsFor(n) {
		var values []string
		var raws [][]byte
		for _, name := range names {
			for _, f := range fields {
				if strings.EqualFold(string(f.Name), name) {
					raws = append(raws, f.Value)
				}
			}
		}
		if _, ok := n.tags["index"]; ok {
			raws = indexRaw(n, raws)
		}
		for _, raw := range raws {
			addrs := parseAddresses([]byte(message.DecodedHeaderValue(raw)))
			if len(addrs) == 0 && n.part == "all" {
				values = append(values, strings.TrimSpace(message.DecodedHeaderValue(raw)))
			}
			for _, a := range addrs {
				if v, ok := r.addressPart(n, a); ok {
					values = append(values, v)
				}
			}
		}
		ok, err := r.matchKeys(n, values, n.pos[1])
		if err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}

func indexRaw(n *node, raws [][]byte) [][]byte {
	i := int(n.tags["index"].Number)
	if i < 1 || i > len(raws) {
		return nil
	}
	if n.has("last") {
		return raws[len(raws)-i : len(raws)-i+1]
	}
	return raws[i-1 : i]
}

func checkEnvelope(v *validator, n *node) {
	if hasVariable(n.pos[0].Strings) {
		return
	}
	for _, p := range n.pos[0].Strings {
		switch strings.ToLower(p) {
		case "from", "to", "auth", "orig_to":
		default:
			v.errorf(n.pos[0].Pos, "specified envelope part '%s' is not supported by the envelope test", p)
		}
	}
}

func evalEnvelope(r *runner, n *node) (bool, error) {
	var values []string
	for _, p := range r.strs(n.pos[0]) {
		var v string
		switch strings.ToLower(p) {
		case "from":
			v = r.env.Envelope.From
		case "to":
			v = r.env.Envelope.To
		case "orig_to":
			v = r.env.Envelope.OrigTo
		case "auth":
			v = r.env.Envelope.Auth
			if v == "" {
				continue
			}
		default:
			continue
		}
		local, domain, ok := parsePath(v)
		if !ok {
			continue // an invalid path matches nothing
		}
		if local == "" {
			values = append(values, "") // the null path is "" in every part
			continue
		}
		if val, ok := r.addressPart(n, addr{local: local, domain: domain, valid: true}); ok {
			values = append(values, val)
		}
	}
	return r.matchKeys(n, values, n.pos[1])
}

// parsePath parses an SMTP path (RFC 5321 section 4.1.2) with or without
// angle brackets: a source route is dropped, "" and "<>" are the null path
// (local ""), and a local part without a domain is allowed (MAILER-DAEMON).
func parsePath(v string) (local, domain string, ok bool) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "<") {
		if !strings.HasSuffix(v, ">") || len(v) < 2 {
			return "", "", false
		}
		v = v[1 : len(v)-1]
	}
	if strings.ContainsAny(v, "<>") {
		return "", "", false
	}
	if v == "" {
		return "", "", true
	}
	if v[0] == '@' {
		route, rest, found := strings.Cut(v, ":")
		if !found {
			return "", "", false
		}
		for _, hop := range strings.Split(route, ",") {
			if !strings.HasPrefix(hop, "@") || !validPathDomain(hop[1:]) {
				return "", "", false
			}
		}
		v = rest
	}
	local, domain = v, ""
	if strings.HasPrefix(v, "\"") {
		end := strings.Index(v[1:], "\"")
		if end < 0 {
			return "", "", false
		}
		local, v = v[:end+2], v[end+2:]
		if v != "" && v[0] != '@' {
			return "", "", false
		}
		domain, ok = strings.CutPrefix(v, "@")
	} else if i := strings.IndexByte(v, '@'); i >= 0 {
		local, domain, ok = v[:i], v[i+1:], true
	}
	if ok && !validPathDomain(domain) || local == "" || strings.ContainsAny(local[:1], " ,:@") ||
		!strings.HasPrefix(local, "\"") && strings.ContainsAny(local, " ,:@") {
		return "", "", false
	}
	return local, domain, true
}

func validPathDomain(d string) bool {
	if strings.HasPrefix(d, "[") && strings.HasSuffix(d, "]") {
		return len(d) > 2
	}
	if d == "" {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlnum(c) && c != '-' && c != '_' && c < 0x80 {
				return false
			}
		}
	}
	return true
}

// currentRaw is the message as edited so far.
func (r *runner) currentRaw() []byte {
	if r.edits {
		return r.editedMessage()
	}
	return r.raw
}
