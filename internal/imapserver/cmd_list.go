package imapserver

import (
	"context"
	"sort"
	"strings"

	"roost/internal/imapwire"
	"roost/internal/storage"
)

// listOpts are LIST-EXTENDED selection and return options (RFC 5258,
// RFC 6154).
type listOpts struct {
	lsub bool
	// extended: selection options, several patterns or RETURN were
	// given (RFC 5258). Dovecot then returns children and special-use
	// attributes only when asked.
	extended bool
	// selection
	subscribed, recursive, specialOnly bool
	unknown                            bool // an unknown selection option
	// return
	retSubscribed, retChildren, retSpecialUse bool
	retStatus                                 map[string]bool // LIST-STATUS (RFC 5819)
}

// cmdList is LIST (RFC 3501 section 6.3.8, RFC 5258) and LSUB (section
// 6.3.9).
func cmdList(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	o := listOpts{lsub: cmd.name == "LSUB"}
	var ref string
	if !dec.SP() || dec.EOL() {
		return listBad(cmd, "Invalid reference")
	}
	if !o.lsub && dec.List(func() bool { return o.selectOption(dec) }) {
		o.extended = true
		if !dec.ExpectSP() {
			return dec.Err()
		}
	}
	if dec.Err() != nil || !dec.ExpectMailbox(&ref) {
		return dec.Err()
	}
	if !dec.SP() || dec.EOL() {
		return listBad(cmd, "Invalid pattern")
	}
	patterns, multi, err := listPatterns(dec, o.lsub)
	if err != nil {
		return err
	}
	o.extended = o.extended || multi
	if err := o.parseReturn(c, cmd); err != nil {
		return err
	}
	if o.unknown {
		return listBad(cmd, "Unknown select options")
	}
	if o.recursive && !o.subscribed {
		return listBad(cmd, "RECURSIVEMATCH must not be the only selection")
	}
	if !multi && patterns[0] == "" {
		c.listRoot(cmd.name, ref)
		return nil
	}
	return c.list(ctx, cmd.name, ref, patterns, o)
}

func listBad(cmd *command, msg string) error {
	return bad("", "Error in IMAP command "+cmd.name+": "+msg)
}

// listPatterns reads one pattern, or (LIST-EXTENDED) a list of them.
func listPatterns(dec *imapwire.Decoder, lsub bool) (patterns []string, multi bool, err error) {
	multi = !lsub && dec.List(func() bool {
		var p string
		ok := dec.ExpectListMailbox(&p)
		patterns = append(patterns, p)
		return ok
	})
	if !multi {
		var p string
		if dec.Err() != nil || !dec.ExpectListMailbox(&p) {
			return nil, false, dec.Err()
		}
		patterns = []string{p}
	}
	return patterns, multi, nil
}

// parseReturn reads the optional RETURN (...) and the end of the line.
func (o *listOpts) parseReturn(c *conn, cmd *command) error {
	dec := cmd.dec
	if o.lsub || !dec.SP() {
		if !cmd.end() {
			return dec.Err()
		}
		return nil
	}
	var a string
	if !dec.ExpectAtom(&a) || !strings.EqualFold(a, "RETURN") || !dec.SP() || dec.EOL() {
		if dec.Err() != nil {
			return dec.Err()
		}
		return listBad(cmd, "Extra arguments")
	}
	o.extended = true
	unknown := false
	var statusErr error
	ok := dec.ExpectList(func() bool {
		if !dec.ExpectAtom(&a) {
			return false
		}
		switch strings.ToUpper(a) {
		case "SUBSCRIBED":
			o.retSubscribed = true
		case "CHILDREN":
			o.retChildren = true
		case "SPECIAL-USE":
			o.retSpecialUse = true
		case "STATUS":
			if !dec.ExpectSP() {
				return false
			}
			o.retStatus, statusErr = c.readStatusItems(dec, cmd.name)
			return statusErr == nil
		default:
			unknown = true
		}
		return true
	})
	if statusErr != nil {
		return statusErr
	}
	if !ok || !cmd.end() {
		return dec.Err()
	}
	if unknown {
		return listBad(cmd, "Unknown return options")
	}
	return nil
}

func (o *listOpts) selectOption(dec *imapwire.Decoder) bool {
	var a string
	if !dec.ExpectAtom(&a) {
		return false
	}
	switch strings.ToUpper(a) {
	case "SUBSCRIBED":
		o.subscribed = true
	case "REMOTE":
	case "RECURSIVEMATCH":
		o.recursive = true
	case "SPECIAL-USE":
		o.specialOnly = true
	default:
		o.unknown = true
	}
	return true
}

// listRoot answers `LIST ref ""`: the hierarchy separator and the root
// of the reference (RFC 3501 section 6.3.8).
func (c *conn) listRoot(name, ref string) {
	ns := c.nsFor(ref)
	root := ""
	if ns.Separator != "" {
		if i := strings.Index(ref, ns.Separator); i >= 0 {
			root = ref[:i+1]
		}
	}
	enc := c.untagged().Atom(name).SP().Flags([]string{storage.AttrNoSelect}).SP()
	writeSeparator(enc, ns.Separator)
	enc.SP().Mailbox(root).CRLF()
}

func writeSeparator(enc *imapwire.Encoder, sep string) {
	if sep == "" {
		enc.NIL()
		return
	}
	enc.String(sep)
}

// listEntry is one line of output.
type listEntry struct {
	name     string
	attrs    []string
	childSub bool // CHILDINFO ("SUBSCRIBED")
}

// list computes and writes the LIST or LSUB reply.
func (c *conn) list(ctx context.Context, cmdName, ref string, patterns []string, o listOpts) error {
	all, err := c.user.List(ctx)
	if err != nil {
		return c.storageError("list", err)
	}
	var subs map[string]bool
	if o.lsub || o.subscribed || o.retSubscribed {
		names, err := c.user.Subscriptions(ctx)
		if err != nil {
			return c.storageError("list subscriptions", err)
		}
		subs = make(map[string]bool, len(names))
		for _, n := range names {
			if strings.EqualFold(n, "INBOX") {
				n = "INBOX"
			}
			subs[n] = true
		}
	}
	pats := make([]listPattern, len(patterns))
	for i, p := range patterns {
		full := p
		if ref != "" {
			full = ref + p
		}
		pats[i] = newListPattern(full, c.nsFor(full).Separator)
	}
	lb := listBuilder{c: c, o: o, subs: subs, pats: pats, patterns: patterns}
	lb.index(all)
	var entries []listEntry
	if o.lsub || o.subscribed {
		entries = lb.subscribedEntries()
	} else {
		entries = lb.allEntries(all)
	}
	// Dovecot writes a mailbox's STATUS after the LIST lines that follow
	// it up to the next mailbox it has a STATUS for (RFC 5819 section 2
	// only asks that it follow its LIST line).
	pending := ""
	for _, e := range entries {
		selectable := o.retStatus != nil && lb.selectable(e)
		if selectable && pending != "" {
			c.listStatus(ctx, pending, o.retStatus)
			pending = ""
		}
		c.writeListEntry(cmdName, e)
		if selectable {
			pending = e.name
		}
	}
	if pending != "" {
		c.listStatus(ctx, pending, o.retStatus)
	}
	return nil
}

// selectable reports whether a LIST entry is a mailbox that LIST-STATUS
// answers for: it exists and can be selected.
func (lb *listBuilder) selectable(e listEntry) bool {
	for _, a := range e.attrs {
		if a == storage.AttrNoSelect || a == storage.AttrNonExistent {
			return false
		}
	}
	return lb.exists[e.name].Name != ""
}

// listStatus writes LIST-STATUS's STATUS response for one mailbox; a
// mailbox that vanished in between is left out.
func (c *conn) listStatus(ctx context.Context, name string, want map[string]bool) {
	if err := c.writeStatus(ctx, name, want); err != nil {
		c.log.Errorf("list status %s: %v", name, err)
	}
}

// listBuilder holds what one LIST needs to decide attributes.
type listBuilder struct {
	c        *conn
	o        listOpts
	subs     map[string]bool
	pats     []listPattern
	patterns []string
	exists   map[string]storage.MailboxInfo
	children map[string]bool // name has at least one child
}

func (lb *listBuilder) index(all []storage.MailboxInfo) {
	lb.exists = make(map[string]storage.MailboxInfo, len(all))
	lb.children = map[string]bool{}
	for _, mi := range all {
		lb.exists[mi.Name] = mi
		sep := lb.c.nsFor(mi.Name).Separator
		if sep == "" {
			continue
		}
		for i := strings.LastIndex(mi.Name, sep); i > 0; i = strings.LastIndex(mi.Name[:i], sep) {
			lb.children[mi.Name[:i]] = true
		}
	}
}

// matches reports whether name matches any pattern and its namespace is
// listable for them.
func (lb *listBuilder) matches(name string) bool {
	ns := lb.c.nsFor(name)
	for i, p := range lb.pats {
		if ns.List == "no" && (ns.Prefix == "" || !strings.HasPrefix(lb.patterns[i], ns.Prefix)) {
			continue
		}
		if p.match(name) {
			return true
		}
	}
	return false
}

func (lb *listBuilder) matchParent(name string) (string, bool) {
	for _, p := range lb.pats {
		if parent, ok := p.matchParent(name); ok {
			return parent, true
		}
	}
	return "", false
}

// allEntries is plain LIST: every existing mailbox that matches.
func (lb *listBuilder) allEntries(all []storage.MailboxInfo) []listEntry {
	var out []listEntry
	for _, mi := range sortInboxFirst(all) {
		if !lb.matches(mi.Name) {
			continue
		}
		if lb.o.specialOnly && len(mi.SpecialUse) == 0 {
			continue
		}
		out = append(out, listEntry{name: mi.Name, attrs: lb.attrs(mi.Name, true)})
	}
	return out
}

// subscribedEntries is LSUB and LIST (SUBSCRIBED): subscribed names that
// match, plus (LSUB, or RECURSIVEMATCH) parents matched only through a
// subscribed child.
func (lb *listBuilder) subscribedEntries() []listEntry {
	names := make([]string, 0, len(lb.subs))
	for n := range lb.subs {
		names = append(names, n)
	}
	names = sortNamesInboxFirst(names)
	var out []listEntry
	seen := map[string]int{}
	for _, n := range names {
		if lb.matches(n) {
			if _, dup := seen[n]; !dup {
				seen[n] = len(out)
				out = append(out, listEntry{name: n, attrs: lb.attrs(n, lb.exists[n].Name != "")})
			}
			continue
		}
		parent, ok := lb.matchParent(n)
		if !ok || (!lb.o.lsub && !lb.o.recursive) {
			continue
		}
		if i, dup := seen[parent]; dup {
			out[i].childSub = lb.o.recursive
			continue
		}
		seen[parent] = len(out)
		e := listEntry{name: parent, childSub: lb.o.recursive}
		if lb.o.lsub {
			e.attrs = []string{storage.AttrNoSelect}
		} else {
			e.attrs = lb.attrs(parent, lb.exists[parent].Name != "")
		}
		out = append(out, e)
	}
	return out
}

// attrs computes a LIST entry's attributes in Dovecot's order:
// \Subscribed, base attributes, children, special-use.
func (lb *listBuilder) attrs(name string, exists bool) []string {
	mi := lb.exists[name]
	if lb.o.lsub {
		if lb.subs[name] {
			return mi.SpecialUse
		}
		return []string{storage.AttrNoSelect}
	}
	var attrs []string
	if (lb.o.subscribed || lb.o.retSubscribed) && lb.subs[name] {
		attrs = append(attrs, `\Subscribed`)
	}
	if !exists {
		attrs = append(attrs, storage.AttrNonExistent)
	}
	for _, a := range mi.Attrs {
		switch {
		case a == storage.AttrHasChildren || a == storage.AttrHasNoChildren:
		case a == storage.AttrNoSelect && (lb.o.extended || lb.c.rev2()): // RFC 9051 section 7.3.1
			attrs = append(attrs, storage.AttrNonExistent)
		default:
			attrs = append(attrs, a)
		}
	}
	if (exists || lb.o.retChildren) && (!lb.o.extended || lb.o.retChildren) {
		if lb.children[name] {
			attrs = append(attrs, storage.AttrHasChildren)
		} else {
			attrs = append(attrs, storage.AttrHasNoChildren)
		}
	}
	if !lb.o.extended || lb.o.retSpecialUse || lb.o.specialOnly {
		attrs = append(attrs, mi.SpecialUse...)
	}
	return attrs
}

func (c *conn) writeListEntry(cmdName string, e listEntry) {
	enc := c.untagged().Atom(cmdName).SP().Flags(c.utf8ListAttrs(e.name, e.attrs)).SP()
	writeSeparator(enc, c.nsFor(e.name).Separator)
	enc.SP().Mailbox(e.name)
	if e.childSub {
		enc.SP().Special('(').Atom("CHILDINFO").SP().Special('(').String("SUBSCRIBED").Special(')').Special(')')
	}
	enc.CRLF()
}

// sortInboxFirst returns the mailboxes ordered by name with INBOX (and
// its children) first, so that replies do not depend on directory order.
func sortInboxFirst(all []storage.MailboxInfo) []storage.MailboxInfo {
	out := append([]storage.MailboxInfo(nil), all...)
	sort.SliceStable(out, func(i, j int) bool { return listLess(out[i].Name, out[j].Name) })
	return out
}

func sortNamesInboxFirst(names []string) []string {
	sort.SliceStable(names, func(i, j int) bool { return listLess(names[i], names[j]) })
	return names
}

func listLess(a, b string) bool {
	ai, bi := isInboxTree(a), isInboxTree(b)
	if ai != bi {
		return ai
	}
	return a < b
}

// isInboxTree reports whether name is INBOX or one of its children.
func isInboxTree(name string) bool {
	return strings.HasPrefix(name, "INBOX") && (len(name) == 5 || name[5] == '/' || name[5] == '.')
}
