package imapserver

import "strings"

// listPattern is a LIST pattern (RFC 3501 section 6.3.8): "*" matches
// anything, "%" anything but the hierarchy separator.
type listPattern struct {
	pat string
	sep byte // 0 when the namespace has no hierarchy
	// literals is the number of non-wildcard bytes: a name shorter than
	// that cannot match, which bounds the matcher's work.
	literals int
}

// newListPattern compiles a pattern: runs of wildcards collapse ("%*" is
// "*"), and a leading INBOX in any case is folded to upper case (INBOX is
// case-insensitive, other names are not).
func newListPattern(p, sep string) listPattern {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '*' || c == '%' {
			j := i
			for j < len(p) && (p[j] == '*' || p[j] == '%') {
				if p[j] == '*' {
					c = '*'
				}
				j++
			}
			b.WriteByte(c)
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	lp := listPattern{pat: foldInbox(b.String(), sep)}
	if sep != "" {
		lp.sep = sep[0]
	}
	for i := 0; i < len(lp.pat); i++ {
		if lp.pat[i] != '*' && lp.pat[i] != '%' {
			lp.literals++
		}
	}
	return lp
}

// foldInbox upper-cases a leading "inbox" when it is the whole string or
// followed by the separator.
func foldInbox(s, sep string) string {
	if len(s) >= 5 && strings.EqualFold(s[:5], "INBOX") && (len(s) == 5 || (sep != "" && strings.HasPrefix(s[5:], sep))) {
		return "INBOX" + s[5:]
	}
	return s
}

// match reports whether name matches, in O(len(pattern) * len(name)).
func (lp listPattern) match(name string) bool {
	if lp.literals > len(name) {
		return false
	}
	p := lp.pat
	// cur[j]: p[:i] matches name[:j].
	cur := make([]bool, len(name)+1)
	next := make([]bool, len(name)+1)
	cur[0] = true
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '*':
			next[0] = cur[0]
			for j := 1; j <= len(name); j++ {
				next[j] = cur[j] || next[j-1]
			}
		case '%':
			next[0] = cur[0]
			for j := 1; j <= len(name); j++ {
				next[j] = cur[j] || (next[j-1] && (lp.sep == 0 || name[j-1] != lp.sep))
			}
		default:
			next[0] = false
			for j := 1; j <= len(name); j++ {
				next[j] = cur[j-1] && name[j-1] == c
			}
		}
		cur, next = next, cur
	}
	return cur[len(name)]
}

// matchParent reports whether the pattern matches a proper parent of
// name (used for LSUB and RECURSIVEMATCH): it returns the longest such
// parent.
func (lp listPattern) matchParent(name string) (string, bool) {
	if lp.sep == 0 {
		return "", false
	}
	for i := len(name) - 1; i > 0; i-- {
		if name[i] == lp.sep && lp.match(name[:i]) {
			return name[:i], true
		}
	}
	return "", false
}
