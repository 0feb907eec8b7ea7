package sieve

import (
	"errors"
	"fmt"
	"regexp"
	regexpsyntax "regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"roost/internal/imap"
)

// matchSpec is a resolved match type, relational operator and comparator
// (RFC 5228 section 2.7, RFC 5231).
type matchSpec struct {
	typ string // is contains matches regex count value
	rel string // gt ge lt le eq ne
	cmp string // i;octet i;ascii-casemap i;ascii-numeric i;unicode-casemap
}

var relOps = map[string]bool{"gt": true, "ge": true, "lt": true, "le": true, "eq": true, "ne": true}

var comparators = map[string]string{
	"i;octet": "comparator-i;octet", "i;ascii-casemap": "comparator-i;ascii-casemap",
	"i;ascii-numeric": "comparator-i;ascii-numeric", "i;unicode-casemap": "comparator-i;unicode-casemap",
}

func (v *validator) matchArgs(n *node) {
	m := matchSpec{typ: "is", cmp: "i;ascii-casemap"}
	for _, t := range []string{"is", "contains", "matches", "regex", "count", "value", "list"} {
		if a, ok := n.tags[t]; ok {
			m.typ = t
			if t == "count" || t == "value" {
				m.rel = strings.ToLower(a.Strings[0])
				if !relOps[m.rel] {
					v.errorf(a.Pos, "the :%s match-type requires a constant string argument being one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\", but \"%s\" was found", t, a.Strings[0])
				}
			}
		}
	}
	if a, ok := n.tags["comparator"]; ok {
		m.cmp = a.Strings[0]
		ext, known := comparators[m.cmp]
		switch {
		case strings.Contains(m.cmp, "${") && n.prog.required["variables"]:
			v.errorf(a.Pos, "this Sieve implementation currently only supports a literal string argument for the :comparator tag")
		case !known || !v.prog.required[ext] && ext == "comparator-i;ascii-numeric":
			v.errorf(a.Pos, "unknown comparator '%s'", m.cmp)
		case m.cmp == "i;ascii-numeric" && m.typ == "regex":
			v.errorf(a.Pos, "regex match type only supports i;octet and i;ascii-casemap comparators")
		case m.cmp == "i;ascii-numeric" && (m.typ == "contains" || m.typ == "matches"):
			v.errorf(a.Pos, "the specified %s comparator does not support sub-string matching as required by the :%s match type", m.cmp, m.typ)
		}
	}
	n.match = m
	if m.typ == "list" && len(n.pos) > 0 {
		checkListNames(v, n)
	}
	if m.typ == "regex" && len(n.pos) > 0 {
		keys := n.pos[len(n.pos)-1]
		if !n.prog.required["variables"] || !hasVariable(keys.Strings) {
			for _, k := range keys.Strings {
				if _, err := compileRegex(k, m.cmp); err != nil {
					v.errorf(keys.Pos, "invalid regular expression '%s' for regex match: %s", k, regexReason(err))
				}
			}
		}
	}
}

func hasVariable(ss []string) bool {
	for _, s := range ss {
		if strings.Contains(s, "${") {
			return true
		}
	}
	return false
}

// regexReason words a regular expression error as POSIX regerror does
// (Pigeonhole uses regcomp), where there is a counterpart.
func regexReason(err error) string {
	var se *regexpsyntax.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	switch se.Code {
	case regexpsyntax.ErrMissingParen, regexpsyntax.ErrUnexpectedParen:
		return "unmatched ( or \\("
	case regexpsyntax.ErrMissingBracket:
		return "unmatched [, [^, [:, [., or [="
	case regexpsyntax.ErrMissingRepeatArgument:
		return "invalid preceding regular expression"
	case regexpsyntax.ErrInvalidRepeatSize, regexpsyntax.ErrInvalidRepeatOp:
		return "invalid content of \\{\\}"
	case regexpsyntax.ErrInvalidEscape, regexpsyntax.ErrTrailingBackslash:
		return "trailing backslash (\\)"
	case regexpsyntax.ErrInvalidCharRange:
		return "invalid range end"
	}
	return strings.TrimPrefix(se.Code.String(), "error parsing regexp: ")
}

func compileRegex(expr, cmp string) (*regexp.Regexp, error) {
	if len(expr) > MaxRegexLen {
		return nil, fmt.Errorf("expression too long")
	}
	if cmp == "i;ascii-casemap" || cmp == "i;unicode-casemap" {
		expr = "(?i)" + expr
	}
	return regexp.Compile(expr)
}

// matcher evaluates one match spec, collecting match values.
type matcher struct {
	spec   matchSpec
	values []string // match variables of the last successful :matches/:regex
	count  int      // values seen, for :count
	regexs map[string]*regexp.Regexp
	err    error
}

// numeric parses an i;ascii-numeric value: the leading digits, or
// positive infinity (ok=false) when there are none (RFC 4790 section 9.1).
func numeric(s string) (uint64, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	d := strings.TrimLeft(s[:i], "0")
	if len(d) > 19 {
		return ^uint64(0), true
	}
	n, err := strconv.ParseUint("0"+d, 10, 64)
	if err != nil {
		return ^uint64(0), true
	}
	return n, true
}

// compare returns -1, 0, 1 ordering a and b under the comparator.
func compare(cmp, a, b string) int {
	switch cmp {
	case "i;ascii-numeric":
		na, oka := numeric(a)
		nb, okb := numeric(b)
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return 1
		case !okb:
			return -1
		case na < nb:
			return -1
		case na > nb:
			return 1
		}
		return 0
	case "i;ascii-casemap":
		return strings.Compare(asciiLower(a), asciiLower(b))
	case "i;unicode-casemap":
		return imap.CompareCaseMap(a, b)
	}
	return strings.Compare(a, b)
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func relational(rel string, c int) bool {
	switch rel {
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	case "eq":
		return c == 0
	}
	return c != 0
}

// one tests a single value against a single key.
func (m *matcher) one(value, key string) bool {
	switch m.spec.typ {
	case "is":
		return compare(m.spec.cmp, value, key) == 0
	case "contains":
		if m.spec.cmp == "i;unicode-casemap" {
			return strings.Contains(imap.CaseMap(value), imap.CaseMap(key))
		}
		if m.spec.cmp == "i;ascii-casemap" {
			return strings.Contains(asciiLower(value), asciiLower(key))
		}
		return strings.Contains(value, key)
	case "matches":
		if m.spec.cmp == "i;unicode-casemap" {
			// captures are taken from the canonical form
			value, key = imap.CaseMap(value), imap.CaseMap(key)
		}
		caps, ok := glob(value, key, m.spec.cmp == "i;ascii-casemap")
		if ok {
			m.values = append([]string{value}, caps...)
		}
		return ok
	case "regex":
		return m.regex(value, key)
	case "value":
		return relational(m.spec.rel, compare(m.spec.cmp, value, key))
	}
	return false
}

func (m *matcher) regex(value, key string) bool {
	re := m.regexs[key]
	if re == nil {
		var err error
		re, err = compileRegex(key, m.spec.cmp)
		if err != nil {
			m.err = fmt.Errorf("invalid regular expression '%s' for regex match: %s", key, regexReason(err))
			return false
		}
		if m.regexs == nil {
			m.regexs = map[string]*regexp.Regexp{}
		}
		m.regexs[key] = re
	}
	sub := re.FindStringSubmatch(value)
	if sub == nil {
		return false
	}
	m.values = sub
	return true
}

// match tests values against keys: true if any value matches any key. For
// :count the number of values is compared instead.
func (m *matcher) match(values, keys []string) bool {
	if m.spec.typ == "count" {
		n := strconv.Itoa(len(values))
		for _, k := range keys {
			if relational(m.spec.rel, compare(m.spec.cmp, n, k)) {
				return true
			}
		}
		return false
	}
	for _, v := range values {
		for _, k := range keys {
			if m.one(v, k) {
				return true
			}
		}
	}
	return false
}

// glob matches value against a :matches pattern (RFC 5228 section 2.7.1),
// returning the text each wildcard matched.
func glob(value, pattern string, fold bool) ([]string, bool) {
	type tok struct {
		kind byte // 'l' literal, '*', '?'
		lit  string
	}
	var toks []tok
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, tok{kind: 'l', lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\' && i+1 < len(pattern):
			i++
			lit.WriteByte(pattern[i])
		case c == '*' || c == '?':
			flush()
			toks = append(toks, tok{kind: c})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	caps := make([]string, 0, 8)
	eq := func(a, b string) bool {
		if fold {
			return asciiLower(a) == asciiLower(b)
		}
		return a == b
	}
	steps := 0
	var rec func(ti int, s string) bool
	rec = func(ti int, s string) bool {
		steps++
		if steps > 1<<20 {
			return false
		}
		if ti == len(toks) {
			return s == ""
		}
		t := toks[ti]
		switch t.kind {
		case 'l':
			if len(s) < len(t.lit) || !eq(s[:len(t.lit)], t.lit) {
				return false
			}
			return rec(ti+1, s[len(t.lit):])
		case '?':
			if s == "" {
				return false
			}
			_, size := utf8.DecodeRuneInString(s)
			caps = append(caps, s[:size])
			if rec(ti+1, s[size:]) {
				return true
			}
			caps = caps[:len(caps)-1]
			return false
		}
		// '*': shortest first, so earlier stars match as little as possible
		for i := 0; i <= len(s); i++ {
			if i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
				continue
			}
			caps = append(caps, s[:i])
			if rec(ti+1, s[i:]) {
				return true
			}
			caps = caps[:len(caps)-1]
		}
		return false
	}
	if !rec(0, value) {
		return nil, false
	}
	return caps, true
}
