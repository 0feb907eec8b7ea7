package sieve

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"roost/internal/message"
)

// mimeValues implements :type, :subtype, :contenttype and :param of the
// mime extension (RFC 5703 section 4.2).
func (r *runner) mimeValues(n *node, fields []message.Field, names []string) []string {
	var out []string
	for _, name := range names {
		lname := strings.ToLower(name)
		for _, f := range fields {
			if !strings.EqualFold(string(f.Name), name) {
				continue
			}
			main, params := splitParams(string(f.Value))
			isType := lname == "content-type"
			switch {
			case n.has("type") && (isType || lname == "content-disposition"):
				out = append(out, strings.TrimSpace(before(main, "/")))
			case n.has("subtype") && isType:
				if i := strings.IndexByte(main, '/'); i >= 0 {
					out = append(out, strings.TrimSpace(main[i+1:]))
				}
			case n.has("subtype") && lname == "content-disposition":
				out = append(out, "")
			case n.has("contenttype"):
				out = append(out, strings.TrimSpace(main))
			case n.has("param"):
				want := r.strs(n.tags["param"])
				for _, p := range params {
					if containsFold(want, p[0]) {
						out = append(out, p[1])
					}
				}
			}
		}
	}
	return out
}

func before(s, sep string) string {
	if i := strings.Index(s, sep); i >= 0 {
		return s[:i]
	}
	return s
}

// splitParams splits a Content-Type or Content-Disposition value into
// its main value and its parameters, unquoted, with RFC 2231
// continuations joined and percent-decoded (the charset'language' prefix
// dropped) and RFC 2047 encoded words in plain values decoded.
func splitParams(v string) (string, [][2]string) {
	parts := splitUnquoted(v, ';')
	type section struct {
		idx int
		ext bool
		val string
	}
	var order []string
	secs := map[string][]section{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		k, val = strings.TrimSpace(k), unquote(strings.TrimSpace(val))
		name, sec := k, section{val: val}
		if star := strings.IndexByte(k, '*'); star > 0 {
			name, sec.ext = k[:star], strings.HasSuffix(k, "*")
			if n, err := strconv.Atoi(strings.TrimSuffix(k[star+1:], "*")); err == nil {
				sec.idx = n
			}
		} else {
			sec.val = message.DecodedHeaderValue([]byte(val))
		}
		lname := strings.ToLower(name)
		if _, seen := secs[lname]; !seen {
			order = append(order, name)
		}
		secs[lname] = append(secs[lname], sec)
	}
	ps := make([][2]string, 0, len(order))
	for _, name := range order {
		list := secs[strings.ToLower(name)]
		sort.SliceStable(list, func(i, j int) bool { return list[i].idx < list[j].idx })
		var b strings.Builder
		for i, sec := range list {
			val := sec.val
			if sec.ext {
				if i == 0 {
					if parts := strings.SplitN(val, "'", 3); len(parts) == 3 {
						val = parts[2]
					}
				}
				if d, err := url.PathUnescape(val); err == nil {
					val = d
				}
			}
			b.WriteString(val)
		}
		ps = append(ps, [2]string{name, b.String()})
	}
	return strings.TrimSpace(parts[0]), ps
}

// splitUnquoted splits s at sep outside quoted strings.
func splitUnquoted(s string, sep byte) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote removes the quotes and backslash escapes of a quoted string.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	var b strings.Builder
	for i := 1; i < len(s)-1; i++ {
		if s[i] == '\\' && i+1 < len(s)-1 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func runForeverypart(r *runner, n *node) error {
	if len(r.parts) >= MaxLoopNesting { // included scripts can nest deeper than one script
		return r.errorf(n, "foreverypart loop: nesting limit exceeded (max %d levels)", MaxLoopNesting)
	}
	name, _ := n.tagStr("name")
	parent := r.root
	if len(r.parts) > 0 {
		parent = r.parts[len(r.parts)-1]
	}
	var parts []*message.Part
	top := len(r.parts) == 0 // the outermost loop visits the message itself first
	parent.Walk(func(p *message.Part) {
		if p != parent || top {
			parts = append(parts, p)
		}
	})
	for _, p := range parts {
		r.parts = append(r.parts, p)
		err := r.block(n.block)
		r.parts = r.parts[:len(r.parts)-1]
		var br flowBreak
		if errors.As(err, &br) {
			if br.name == "" || br.name == name {
				return nil
			}
			return err
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func checkBreak(v *validator, n *node) {
	if v.loops == 0 {
		v.errorf(n.Pos, "the break command is not placed inside a foreverypart loop")
		return
	}
	if name, ok := n.tagStr("name"); ok {
		for _, l := range v.loopNames {
			if l == name {
				return
			}
		}
		v.errorf(n.Pos, "the break command is not placed inside a foreverypart loop named `%s'", name)
	}
}

func runBreak(r *runner, n *node) error {
	name, _ := n.tagStr("name")
	return flowBreak{name: name}
}

func checkExtracttext(v *validator, n *node) {
	if v.loops == 0 {
		v.errorf(n.Pos, "the extracttext command is not placed inside a foreverypart loop")
	}
	if !v.prog.required["variables"] {
		return // reported at the require (requireDependencies)
	}
	checkSet(v, n)
}

func runExtracttext(r *runner, n *node) error {
	var text string
	if len(r.parts) > 0 {
		p := r.parts[len(r.parts)-1]
		typ, sub := partType(p)
		if typ == "text" && !p.Is(message.FlagMultipart) {
			if b, err := message.DecodeBodyPart(r.raw, p); err == nil {
				text = string(b)
			}
			if sub == "html" {
				text = stripHTML(text) // as Pigeonhole's html2text
			}
		}
	}
	if a, ok := n.tags["first"]; ok && uint64(utf8.RuneCountInString(text)) > a.Number {
		text = string([]rune(text)[:a.Number])
	}
	tmp := &node{Command: n.Command, spec: n.spec, prog: n.prog, tags: n.tags}
	_ = tmp
	val := text
	if n.has("lower") {
		val = strings.ToLower(val)
	}
	if n.has("upper") {
		val = strings.ToUpper(val)
	}
	if n.has("quotewildcard") {
		val = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`).Replace(val)
	}
	if n.has("length") {
		val = strconv.Itoa(utf8.RuneCountInString(val))
	}
	r.setVar(n.pos[0].Strings[0], val)
	return nil
}

func checkNotify(v *validator, n *node) {
	if v.cfg.notifyProhibited() {
		v.errorf(n.Pos, "notify command: local policy prohibits the use of a notify action")
	}
	if m := n.pos[0].Strings[0]; !strings.Contains(m, "${") {
		if err := checkMailtoURI(m); err == "unsupported" {
			scheme, _, _ := strings.Cut(m, ":")
			v.errorf(n.pos[0].Pos, "notify command: invalid method '%s'", scheme)
		} else if err != "" {
			v.errorf(n.pos[0].Pos, "notify command: mailto URI: %s", err)
		}
	}
	if imp, ok := n.tagStr("importance"); ok && imp != "1" && imp != "2" && imp != "3" {
		v.errorf(n.tags["importance"].Pos, "invalid :importance value for notify command: %s", imp)
	}
	if from, ok := n.tagStr("from"); ok && !strings.Contains(from, "${") {
		if r := addressReason(from); r != "" {
			v.errorf(n.tags["from"].Pos, "notify command: specified :from address '%s' is invalid for the mailto method: %s", from, r)
		} else if norm, valid := normalizeAddress(from); !valid || !strings.EqualFold(norm, strings.TrimSpace(from)) {
			v.errorf(n.tags["from"].Pos, "notify command: specified :from address '%s' is invalid for the mailto method", from)
		}
	}
	if a, ok := n.tags["options"]; ok {
		for _, o := range a.Strings {
			if err := checkNotifyOption(o); err != "" && !strings.Contains(o, "${") {
				v.errorf(a.Pos, "notify command: %s", err)
			}
		}
	}
}

// checkNotifyOption validates one :options item, "name=value" (RFC 5435
// section 3.7: the name starts with a letter or digit and has letters,
// digits, ".", "-", "+" and "_"; the value has no line breaks).
func checkNotifyOption(o string) string {
	name, value, ok := strings.Cut(o, "=")
	bad := !ok || name == "" || !isAlnum(name[0])
	for i := 0; i < len(name) && !bad; i++ {
		bad = !isAlnum(name[i]) && strings.IndexByte(".-+_", name[i]) < 0
	}
	switch {
	case o == "":
		return "empty option specified"
	case bad:
		return "invalid option name specified in option '" + controlsAsQuestionMarks(o) + "'"
	case strings.ContainsAny(value, "\r\n"):
		// sic: Pigeonhole repeats the prefix here
		return "notify command: invalid option value specified in option '" + controlsAsQuestionMarks(o) + "'"
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkMailtoURI validates a mailto: notification URI (RFC 5436, RFC 6068)
// and returns Pigeonhole's reason for refusing it: "unsupported" for
// another scheme, else a text after "mailto URI: ".
func checkMailtoURI(uri string) string {
	scheme, rest, ok := strings.Cut(uri, ":")
	if !ok {
		return "unsupported"
	}
	if !strings.EqualFold(scheme, "mailto") {
		return "unsupported"
	}
	to, query, _ := strings.Cut(rest, "?")
	if to != "" {
		if c, bad := firstBad(to, "-._~!$'()*+,:@%"); bad {
			return fmt.Sprintf("invalid character '%c' in 'to' part", c)
		}
		dec, err := url.PathUnescape(to)
		if err != nil {
			return "invalid %-encoding in 'to' part"
		}
		for _, a := range strings.Split(dec, ",") {
			if r := mailtoRecipient(a, true); r != "" {
				return r
			}
		}
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			if c, bad := firstBad(k, "-._~!$'()*+,;:@%"); bad {
				return fmt.Sprintf("invalid character '%c' in header field name part", c)
			}
			if name, err := url.PathUnescape(k); err != nil || !validHeaderName(name) {
				return "invalid header field name"
			}
			if c, bad := firstBad(v, "-._~!$'()*+,;:@%"); bad {
				return fmt.Sprintf("invalid character '%c' in header field value part", c)
			}
			if strings.EqualFold(k, "to") {
				dec, _ := url.QueryUnescape(v)
				for _, a := range strings.Split(dec, ",") {
					if r := mailtoRecipient(a, false); r != "" {
						return r
					}
				}
			}
		}
	}
	return ""
}

// mailtoRecipient checks one recipient of a mailto URI; bare (the 'to'
// part) allows no display name.
func mailtoRecipient(a string, bare bool) string {
	if r := addressReason(a); r != "" {
		return "invalid recipient '" + a + "': " + r
	}
	if norm, ok := normalizeAddress(a); !ok || bare && !strings.EqualFold(norm, strings.TrimSpace(a)) {
		return "invalid recipient '" + a + "'"
	}
	return ""
}

// firstBad returns the first byte of s that is neither alphanumeric nor
// in allowed.
func firstBad(s, allowed string) (byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && strings.IndexByte(allowed, c) < 0 {
			return c, true
		}
	}
	return 0, false
}

// allQchars reports whether s has only RFC 6068 qchars (unreserved,
// percent-encoded and some-delims).
func allQchars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-._~!$'()*+,;:@%", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func runNotify(r *runner, n *node) error {
	if r.cfg.notifyProhibited() {
		return r.errorf(n, "notify action: local policy prohibits the use of a notify action")
	}
	m := r.pstr(n, 0)
	if err := checkMailtoURI(m); err != "" {
		if err == "unsupported" {
			return r.errorf(n, "notify action: invalid method '%s'", m)
		}
		return r.errorf(n, "notify action: invalid method '%s': mailto URI: %s", m, err)
	}
	nt := &Notification{Method: m, Importance: "2"}
	nt.From, _ = r.tstr(n, "from")
	if imp, ok := r.tstr(n, "importance"); ok {
		nt.Importance = imp
	}
	nt.Message, _ = r.tstr(n, "message")
	if a, ok := n.tags["options"]; ok {
		nt.Options = r.strs(a)
	}
	r.notifys++
	if max := r.cfg.NotifyMaxNotifications; max > 0 && r.notifys > max {
		return r.errorf(n, "number of notify actions exceeds policy limit (%d > %d)", r.notifys, max)
	}
	for _, a := range r.res.Actions {
		if a.Kind == ActNotify && a.Notify.Method == m {
			return nil
		}
	}
	return r.add(n, &Action{Kind: ActNotify, Notify: nt})
}

func evalValidNotify(r *runner, n *node) (bool, error) {
	for _, m := range r.strs(n.pos[0]) {
		if checkMailtoURI(m) != "" {
			return false, nil
		}
	}
	return true, nil
}

func evalNotifyCap(r *runner, n *node) (bool, error) {
	if checkMailtoURI(r.pstr(n, 0)) != "" {
		return false, nil
	}
	if !strings.EqualFold(r.pstr(n, 1), "online") {
		return false, nil
	}
	return r.matchKeys(n, []string{"maybe"}, n.pos[2])
}

// evalSpamtest implements RFC 5235 with Pigeonhole's settings
// (sieve_spamtest_status_header and friends, see ScoreConfig).
func evalSpamtest(r *runner, n *node) (bool, error) {
	sc, levels := r.cfg.Spamtest, 10
	if n.spec.name == "virustest" {
		sc, levels = r.cfg.Virustest, 5
	}
	val := r.spamScore(sc, levels, n.has("percent"))
	return r.matchKeys(n, []string{val}, n.pos[0])
}

// headerMatch reads header name and, with a regex, its first group; ok is
// false when the header is absent or the regex does not match.
func (r *runner) headerMatch(name, re string) (string, bool) {
	vals := r.headerValues(r.hdr, []string{name})
	if len(vals) == 0 {
		return "", false
	}
	if re == "" {
		return strings.TrimSpace(vals[0]), true
	}
	m := &matcher{spec: matchSpec{typ: "regex", cmp: "i;octet"}}
	if !m.regex(vals[0], re) || len(m.values) < 2 {
		return "", false
	}
	return strings.TrimSpace(m.values[1]), true
}

// spamScore returns the test's value: "0" when the message was not
// scanned, else 1..levels (or 0..100 for :percent).
func (r *runner) spamScore(sc ScoreConfig, levels int, percent bool) string {
	if !sc.configured() {
		return "0"
	}
	raw, ok := r.headerMatch(sc.Header, sc.Regex)
	if !ok {
		return "0"
	}
	if sc.Type == "text" {
		v, ok := sc.TextValues[strings.ToLower(raw)]
		if !ok {
			return "0"
		}
		if percent {
			return strconv.Itoa(v * 100 / levels)
		}
		return strconv.Itoa(v)
	}
	score := float64(len(raw))
	if sc.Type != "strlen" {
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return "0"
		}
		score = f
	}
	max := sc.MaxValue
	if sc.MaxHeader != "" {
		if m, ok := r.headerMatch(sc.MaxHeader, sc.MaxRegex); ok {
			if f, err := strconv.ParseFloat(m, 64); err == nil {
				max = f
			}
		}
	}
	if max <= 0 {
		return "0"
	}
	ratio := math.Min(math.Max(score/max, 0), 1)
	if percent {
		return strconv.Itoa(int(math.Round(ratio * 100)))
	}
	return strconv.Itoa(int(ratio*float64(levels-1)) + 1)
}

func checkAddheader(v *validator, n *node) {
	name := n.pos[0].Strings[0]
	if !strings.Contains(name, "${") && !validHeaderName(name) {
		v.errorf(n.pos[0].Pos, "addheader command: specified field name `%s' is invalid", name)
	}
	val := n.pos[1].Strings[0]
	if n.prog.required["variables"] && strings.Contains(val, "${") {
		return
	}
	switch {
	case strings.IndexByte(val, 0) >= 0:
		v.errorf(n.pos[1].Pos, "addheader command: specified value `%s' is invalid (contains NUL character)", val[:strings.IndexByte(val, 0)])
	case !utf8.ValidString(val):
		v.errorf(n.pos[1].Pos, "addheader command: specified value `%s' is invalid", strings.ToValidUTF8(val, "?"))
	case headerTooLarge(v.cfg, len(val)):
		v.errorf(n.pos[1].Pos, "addheader command: specified header value '%s' is too large (%d bytes)", val, len(val))
	case strings.ContainsFunc(val, func(c rune) bool { return c < ' ' && c != '\t' && c != '\r' && c != '\n' || c == 0x7f }):
		v.warnf(n.pos[1].Pos, "addheader command: specified value `%s' is invalid", controlsAsQuestionMarks(val))
	}
}

// controlsAsQuestionMarks shows control characters as '?', as
// Pigeonhole's messages do (str_sanitize).
func controlsAsQuestionMarks(s string) string {
	return strings.Map(func(c rune) rune {
		if c < ' ' { // DEL is kept, as by Dovecot's str_sanitize
			return '?'
		}
		return c
	}, s)
}

// headerTooLarge reports whether an added header value of size bytes
// exceeds sieve_editheader_max_header_size.
func headerTooLarge(c *Config, size int) bool {
	return c != nil && c.EditheaderMaxHeaderSize > 0 && size > c.EditheaderMaxHeaderSize
}

func checkDeleteheader(v *validator, n *node) {
	if n.has("last") && !n.has("index") {
		v.errorf(n.tags["last"].Pos, "the :last tag for the deleteheader command cannot be specified without the :index tag")
		return // before the field name check, as Pigeonhole's test suite wants
	}
	name := n.pos[0].Strings[0]
	if !strings.Contains(name, "${") && !validHeaderName(name) {
		v.errorf(n.pos[0].Pos, "deleteheader command:specified field name `%s' is invalid", name) // sic, Pigeonhole's
	}
}

func runAddheader(r *runner, n *node) error {
	name, val := r.pstr(n, 0), r.pstr(n, 1)
	if !validHeaderName(name) {
		return r.errorf(n, "addheader action: specified field name '%s' is invalid", name)
	}
	if headerTooLarge(r.cfg, len(val)) {
		return r.errorf(n, "addheader action: specified header value '%s' is too large (%d bytes)", val, len(val))
	}
	if r.cfg.EditheaderForbidden(name, true) {
		return nil
	}
	f := message.Field{Name: []byte(name), Value: []byte(encodeHeaderValue(val))}
	if n.has("last") {
		r.hdr = append(r.hdr, f)
	} else {
		r.hdr = append([]message.Field{f}, r.hdr...)
	}
	r.edits = true
	return nil
}

// encodeHeaderValue turns an addheader value into a folded field body:
// line breaks followed by white space are folds, other line breaks get a
// space so that they become folds (RFC 5293 section 4), and trailing
// line breaks are dropped.
func encodeHeaderValue(v string) string {
	v = strings.ReplaceAll(strings.ReplaceAll(v, "\r\n", "\n"), "\r", "\n")
	v = strings.TrimRight(v, "\n")
	lines := strings.Split(v, "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] == "" || lines[i][0] != ' ' && lines[i][0] != '\t' {
			lines[i] = " " + lines[i]
		}
	}
	return strings.Join(lines, "\r\n")
}

func runDeleteheader(r *runner, n *node) error {
	name := r.pstr(n, 0)
	if r.cfg.EditheaderForbidden(name, false) {
		return nil
	}
	var idx []int
	for i, f := range r.hdr {
		if strings.EqualFold(string(f.Name), name) {
			idx = append(idx, i)
		}
	}
	if a, ok := n.tags["index"]; ok {
		k := int(a.Number)
		if k < 1 || k > len(idx) {
			return nil
		}
		if n.has("last") {
			idx = idx[len(idx)-k : len(idx)-k+1]
		} else {
			idx = idx[k-1 : k]
		}
	}
	del := map[int]bool{}
	for _, i := range idx {
		if len(n.pos) == 2 {
			v := strings.TrimRight(message.DecodedHeaderValue(r.hdr[i].Value), " \t")
			if ok, err := r.matchKeys(n, []string{v}, n.pos[1]); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
		}
		del[i] = true
	}
	if len(del) == 0 {
		return nil
	}
	var out []message.Field
	for i, f := range r.hdr {
		if !del[i] {
			out = append(out, f)
		}
	}
	r.hdr = out
	r.edits = true
	return nil
}

// editedMessage renders the edited header and the original body.
func (r *runner) editedMessage() []byte {
	var b bytes.Buffer
	for _, f := range r.hdr {
		b.Write(f.Name)
		b.WriteString(": ")
		b.Write(bytes.ReplaceAll(bytes.ReplaceAll(f.Value, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	off := int(r.root.Header.Physical)
	if off <= len(r.raw) {
		body := r.raw[off:]
		b.Write(body)
	}
	return b.Bytes()
}
