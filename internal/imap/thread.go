package imap

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"roost/internal/message"
)

// ThreadAlgorithm names a THREAD algorithm.
type ThreadAlgorithm uint8

// The threading algorithms Dovecot 2.3 offers.
const (
	// ThreadOrderedSubject is RFC 5256 section 3 ORDEREDSUBJECT.
	ThreadOrderedSubject ThreadAlgorithm = iota + 1
	// ThreadReferences is RFC 5256 section 3 REFERENCES.
	ThreadReferences
	// ThreadRefs is Dovecot's REFS: REFERENCES without merging threads by
	// subject, the threads ordered by their latest message.
	ThreadRefs
)

// ParseThreadAlgorithm maps an algorithm name (case-insensitive) to its
// ThreadAlgorithm.
func ParseThreadAlgorithm(name string) (ThreadAlgorithm, bool) {
	switch strings.ToUpper(name) {
	case "ORDEREDSUBJECT":
		return ThreadOrderedSubject, true
	case "REFERENCES":
		return ThreadReferences, true
	case "REFS":
		return ThreadRefs, true
	}
	return 0, false
}

// Thread is one node of a thread tree. A dummy node (a message that is
// referenced but not in the set threaded) has Seq and UID zero; only a
// root can be a dummy.
type Thread struct {
	Seq, UID uint32
	Children []*Thread
}

// Threads threads msgs (filled with at least FieldsThread; any order) by
// alg and returns the root set in order.
func Threads(msgs []SortData, alg ThreadAlgorithm) []*Thread {
	byUID := make([]*SortData, len(msgs))
	for i := range msgs {
		byUID[i] = &msgs[i]
	}
	slices.SortFunc(byUID, func(a, b *SortData) int { return cmp.Compare(a.UID, b.UID) })
	var roots []*tnode
	switch alg {
	case ThreadOrderedSubject:
		roots = orderedSubject(byUID)
	case ThreadReferences:
		roots = linkReferences(byUID)
		sortSiblings(roots)
		roots = mergeSubjects(roots)
		sortSiblings(roots)
	case ThreadRefs:
		roots = linkReferences(byUID)
		for _, r := range roots {
			sortSiblings(r.children)
		}
		sortByLatest(roots)
	default:
		return nil
	}
	return exportThreads(roots)
}

// tnode is a thread node while threading; msg is nil for a dummy.
type tnode struct {
	msg      *SortData
	parent   *tnode
	children []*tnode
	// dummyRoot is set on a message that became a root in place of a
	// dummy with no other child (REFS orders it as a dummy).
	dummyRoot bool
}

// date and uid order siblings (RFC 5256 section 3 step 4: a dummy sorts
// as its first child).
func (n *tnode) key() (int64, uint32) {
	for n.msg == nil && len(n.children) > 0 {
		n = n.children[0]
	}
	if n.msg == nil {
		return 0, 0
	}
	return n.msg.Date, n.msg.UID
}

func compareNodes(a, b *tnode) int {
	ad, au := a.key()
	bd, bu := b.key()
	if c := cmp.Compare(ad, bd); c != 0 {
		return c
	}
	return cmp.Compare(au, bu)
}

// linkReferences runs steps 1 to 3 of REFERENCES: link messages by
// Message-ID and their parent chains, gather the root set and prune
// dummies.
func linkReferences(msgs []*SortData) []*tnode {
	ids := map[string]*tnode{}
	var all []*tnode
	get := func(id string) *tnode {
		n := ids[id]
		if n == nil {
			n = &tnode{}
			ids[id] = n
			all = append(all, n)
		}
		return n
	}
	for _, m := range msgs {
		var n *tnode
		if m.MessageID != "" {
			if x := ids[m.MessageID]; x == nil || x.msg == nil {
				n = get(m.MessageID)
			}
		}
		if n == nil { // no or duplicate Message-ID: a unique one
			n = &tnode{}
			all = append(all, n)
		}
		n.msg = m
		var prev *tnode
		for _, ref := range m.Parents {
			c := get(ref)
			if prev != nil && c.parent == nil && !isAncestor(c, prev) {
				link(prev, c)
			}
			prev = c
		}
		// Step 1.B: the last reference becomes the parent. The older link
		// goes even when the new one would make a loop and is not made
		// (as Dovecot), or when there is no reference at all.
		unlink(n)
		if prev != nil && !isAncestor(n, prev) {
			link(prev, n)
		}
	}
	var roots []*tnode
	for _, n := range all {
		if n.parent == nil {
			roots = append(roots, n)
		}
	}
	return pruneDummies(roots, true)
}

// isAncestor reports whether a is b or one of b's ancestors.
func isAncestor(a, b *tnode) bool {
	for ; b != nil; b = b.parent {
		if a == b {
			return true
		}
	}
	return false
}

func link(parent, child *tnode) {
	child.parent = parent
	parent.children = append(parent.children, child)
}

func unlink(n *tnode) {
	if p := n.parent; p != nil {
		p.children = slices.DeleteFunc(p.children, func(c *tnode) bool { return c == n })
		n.parent = nil
	}
}

// pruneDummies is step 3: dummies without children go; a dummy's
// children replace it unless it is a root with more than one child.
func pruneDummies(list []*tnode, root bool) []*tnode {
	var out []*tnode
	for _, n := range list {
		n.children = pruneDummies(n.children, false)
		if n.msg == nil && (len(n.children) <= 1 || !root) {
			for _, c := range n.children {
				c.parent = n.parent
				c.dummyRoot = root
			}
			out = append(out, n.children...)
			continue
		}
		out = append(out, n)
	}
	return out
}

// sortSiblings sorts list and every set of siblings below it by date.
func sortSiblings(list []*tnode) {
	for _, n := range list {
		sortSiblings(n.children)
	}
	slices.SortStableFunc(list, compareNodes)
}

// subjectOf is a thread's subject: its root's, or its first child's for
// a dummy (step 5.B).
func subjectOf(n *tnode) *SortData {
	if n.msg == nil && len(n.children) > 0 {
		return n.children[0].msg
	}
	return n.msg
}

// mergeSubjects is step 5: threads whose subjects match are gathered.
func mergeSubjects(roots []*tnode) []*tnode {
	table := map[string]*tnode{}
	for _, n := range roots {
		m := subjectOf(n)
		if m == nil || m.Subject == "" {
			continue
		}
		old := table[m.Subject]
		if old == nil || old.msg != nil && (n.msg == nil || old.msg.ReplyOrForward && !m.ReplyOrForward) {
			table[m.Subject] = n
		}
	}
	var out []*tnode
	for _, n := range roots {
		m := subjectOf(n)
		if m == nil || m.Subject == "" || table[m.Subject] == n {
			out = append(out, n)
			continue
		}
		old := table[m.Subject]
		switch {
		case old.msg == nil && n.msg == nil:
			for _, c := range n.children {
				link(old, c)
			}
		case old.msg == nil:
			link(old, n)
		case m.ReplyOrForward && !old.msg.ReplyOrForward:
			link(old, n)
		default:
			d := &tnode{}
			i := slices.Index(out, old)
			link(d, old)
			link(d, n)
			table[m.Subject] = d
			if i >= 0 {
				out[i] = d
			} else {
				roots[slices.Index(roots, old)] = d
			}
		}
	}
	return out
}

// sortByLatest orders REFS threads by the date of their latest message,
// then by their root's UID, where a root that is or replaced a dummy
// counts as UID 0, then by the order roots were first referenced (as
// Dovecot, whose root array is in that order and whose sort is stable).
func sortByLatest(roots []*tnode) {
	type key struct {
		date int64
		uid  uint32
	}
	keys := make(map[*tnode]key, len(roots))
	for _, r := range roots {
		k := key{date: -1 << 63}
		if r.msg != nil && !r.dummyRoot {
			k.uid = r.msg.UID
		}
		walkMessages(r, func(m *SortData) { k.date = max(k.date, m.Date) })
		keys[r] = k
	}
	slices.SortStableFunc(roots, func(a, b *tnode) int {
		ka, kb := keys[a], keys[b]
		if c := cmp.Compare(ka.date, kb.date); c != 0 {
			return c
		}
		return cmp.Compare(ka.uid, kb.uid)
	})
}

func walkMessages(n *tnode, fn func(*SortData)) {
	if n.msg != nil {
		fn(n.msg)
	}
	for _, c := range n.children {
		walkMessages(c, fn)
	}
}

// orderedSubject is ORDEREDSUBJECT: messages sorted by base subject and
// date, each run of one subject a thread whose first message is the
// parent of the others; threads in order of their first message's date.
func orderedSubject(msgs []*SortData) []*tnode {
	sorted := slices.Clone(msgs)
	slices.SortStableFunc(sorted, func(a, b *SortData) int {
		if c := strings.Compare(a.Subject, b.Subject); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Date, b.Date); c != 0 {
			return c
		}
		return cmp.Compare(a.UID, b.UID)
	})
	var roots []*tnode
	for i, m := range sorted {
		if i > 0 && m.Subject == sorted[i-1].Subject {
			link(roots[len(roots)-1], &tnode{msg: m})
			continue
		}
		roots = append(roots, &tnode{msg: m})
	}
	slices.SortStableFunc(roots, compareNodes)
	return roots
}

func exportThreads(list []*tnode) []*Thread {
	out := make([]*Thread, len(list))
	for i, n := range list {
		t := &Thread{Children: exportThreads(n.children)}
		if n.msg != nil {
			t.Seq, t.UID = n.msg.Seq, n.msg.UID
		}
		out[i] = t
	}
	return out
}

// AppendThreads appends the THREAD response data for threads (RFC 5256
// section 4, thread-list*), with UIDs when uid is set and sequence
// numbers otherwise: "(1 2 (3)(4 5))".
func AppendThreads(dst []byte, threads []*Thread, uid bool) []byte {
	for _, t := range threads {
		dst = append(dst, '(')
		dst = appendThreadMembers(dst, t, uid)
		dst = append(dst, ')')
	}
	return dst
}

func appendThreadMembers(dst []byte, t *Thread, uid bool) []byte {
	first := true
	for {
		if t.Seq != 0 {
			if !first {
				dst = append(dst, ' ')
			}
			n := t.Seq
			if uid {
				n = t.UID
			}
			dst = strconv.AppendUint(dst, uint64(n), 10)
			first = false
		}
		if len(t.Children) != 1 {
			break
		}
		t = t.Children[0]
	}
	if len(t.Children) > 1 && !first {
		dst = append(dst, ' ')
	}
	if len(t.Children) > 1 {
		dst = AppendThreads(dst, t.Children, uid)
	}
	return dst
}

// threadIDs returns a message's Message-ID and parent chain from its
// header fields (RFC 5256 section 4 step 1.A).
func threadIDs(hdr []message.Field) (id string, parents []string) {
	if v, ok := message.FieldValue(hdr, "Message-ID"); ok {
		id, _ = nextMessageID(string(v))
	}
	if v, ok := message.FieldValue(hdr, "References"); ok {
		for s := string(v); ; {
			ref, rest := nextMessageID(s)
			if ref == "" {
				break
			}
			parents = append(parents, ref)
			s = rest
		}
	}
	if len(parents) == 0 {
		if v, ok := message.FieldValue(hdr, "In-Reply-To"); ok {
			if ref, _ := nextMessageID(string(v)); ref != "" {
				parents = append(parents, ref)
			}
		}
	}
	return id, parents
}

// nextMessageID returns the first valid msg-id in s without its angle
// brackets and white space, and the text after it; "" when there is none.
// Like Dovecot's message_id_get_next it takes any "<…@…>" without
// quotes or comments inside as valid and parses the rest as RFC 5322.
func nextMessageID(s string) (id, rest string) {
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return "", ""
		}
		s = s[i+1:]
		j := strings.IndexAny(s, ">\"(")
		if j < 0 {
			return "", ""
		}
		if s[j] == '>' {
			if strings.IndexByte(s[:j], '@') >= 0 {
				return stripWhite(s[:j]), s[j+1:]
			}
			s = s[j+1:]
			continue
		}
		if id, rest, ok := parseMsgID(s); ok {
			return id, rest
		}
	}
}

func stripWhite(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// parseMsgID parses id-left "@" id-right ">" where id-left may be quoted
// and comments may stand between the tokens.
func parseMsgID(s string) (id, rest string, ok bool) {
	var b strings.Builder
	p := skipCFWS(s, 0)
	if p < len(s) && s[p] == '"' {
		q := p + 1
		for q < len(s) && s[q] != '"' {
			if s[q] == '\\' && q+1 < len(s) {
				q++
			}
			b.WriteByte(s[q])
			q++
		}
		if q >= len(s) {
			return "", "", false
		}
		p = q + 1
	} else {
		q := p
		for q < len(s) && (IsAtomChar(s[q]) || s[q] == '.') && s[q] != '@' {
			q++
		}
		if q == p {
			return "", "", false
		}
		b.WriteString(s[p:q])
		p = q
	}
	p = skipCFWS(s, p)
	if p >= len(s) || s[p] != '@' {
		return "", "", false
	}
	b.WriteByte('@')
	p = skipCFWS(s, p+1)
	q := p
	for q < len(s) && s[q] != '>' && s[q] != '(' && s[q] != ' ' && s[q] != '\t' && s[q] != '\r' && s[q] != '\n' {
		q++
	}
	if q == p {
		return "", "", false
	}
	b.WriteString(s[p:q])
	p = skipCFWS(s, q)
	if p >= len(s) || s[p] != '>' {
		return "", "", false
	}
	return b.String(), s[p+1:], true
}

// skipCFWS skips white space and (nested) comments from p.
func skipCFWS(s string, p int) int {
	depth := 0
	for p < len(s) {
		switch c := s[p]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == '\\' && depth > 0:
			p++
		case depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n':
			return p
		}
		p++
	}
	return p
}
