package sieve

import "strings"

// addressReason checks an outgoing address (redirect, vacation :from,
// notify :from, report) as Pigeonhole's address parser does and returns
// its reason for rejecting it ("" when the address is acceptable): a bare
// addr-spec or a name-addr, ASCII only, one address.
func addressReason(s string) string {
	p := strings.TrimSpace(s)
	if p == "" {
		return "empty address"
	}
	if i := strings.IndexByte(p, '<'); i >= 0 && validPhrase(p[:i]) {
		inner := p[i+1:]
		if strings.TrimSpace(inner) == "" {
			return "missing domain"
		}
		j := strings.IndexByte(inner, '>')
		spec, rest := inner, ""
		if j >= 0 {
			spec, rest = inner[:j], inner[j+1:]
		}
		if r, _ := addrSpecReason(spec); r != "" {
			return r
		}
		if j < 0 {
			return "missing '>'"
		}
		return trailingReason(rest)
	}
	r, rest := addrSpecReason(p)
	if r != "" {
		return r
	}
	return trailingReason(rest)
}

// trailingReason rejects anything after the address.
func trailingReason(rest string) string {
	rest = strings.TrimSpace(rest)
	switch {
	case rest == "":
		return ""
	case rest[0] == ',':
		return "not a single address (found ',')"
	}
	return "invalid characters after address"
}

// addrSpecReason parses local-part "@" domain at the start of s and
// returns the reason it is invalid and what follows it.
func addrSpecReason(s string) (string, string) {
	s = strings.TrimLeft(s, " \t")
	local, rest, ok := localPart(s)
	if !ok || local == "" {
		return "invalid local part", ""
	}
	after := strings.TrimLeft(rest, " \t")
	switch {
	case after == "" || after != rest && after[0] != '@':
		return "invalid or lonely local part '" + local + "' (expecting '@')", ""
	case after[0] != '@':
		return "invalid local part", ""
	}
	after = strings.TrimLeft(after[1:], " \t")
	n := domainLen(after)
	if n == 0 {
		return "invalid or missing domain", ""
	}
	return "", after[n:]
}

// localPart takes a dot-atom (dots anywhere) or a quoted string.
func localPart(s string) (string, string, bool) {
	if strings.HasPrefix(s, "\"") {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				return s[:i+1], s[i+1:], true
			}
		}
		return "", "", false
	}
	i := 0 // dots anywhere: Pigeonhole accepts the obsolete forms ("a..b.")
	for i < len(s) && (isAtext(s[i]) || s[i] == '.') {
		i++
	}
	return s[:i], s[i:], true
}

// domainLen is the length of the dot-atom or domain literal at the
// start of s.
func domainLen(s string) int {
	if strings.HasPrefix(s, "[") {
		if j := strings.IndexByte(s, ']'); j > 1 {
			return j + 1
		}
		return 0
	}
	i := 0
	for i < len(s) && (isAtext(s[i]) || s[i] == '.' && i > 0 && i+1 < len(s) && isAtext(s[i+1])) {
		i++
	}
	return i
}

// validPhrase reports a display name (words, quoted strings, dots),
// possibly empty.
func validPhrase(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return false
			}
			i += j + 1
			continue
		}
		if !isAtext(c) && c != ' ' && c != '\t' && c != '.' && c < 0x80 {
			return false
		}
	}
	return true
}

// isAtext is RFC 5322 atext (ASCII).
func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
