package smtp

import (
	"strings"
)

// Command is one command line split into its verb (upper case) and the
// rest of the line.
type Command struct {
	Verb string
	Args string
}

// ParseCommand splits a command line. The verb is case-insensitive.
func ParseCommand(line string) Command {
	verb, args, _ := strings.Cut(line, " ")
	return Command{Verb: strings.ToUpper(verb), Args: args}
}

// Address is a mailbox of a reverse or forward path. Both parts are empty
// for the null path "<>".
type Address struct {
	Local  string // local part, without quotes
	Domain string // may be empty (LMTP "RCPT TO:<user>")
}

// IsNull reports the null path "<>".
func (a Address) IsNull() bool { return a.Local == "" && a.Domain == "" }

// String is the address in path form, without brackets; a local part
// that is not a dot-string is quoted.
func (a Address) String() string {
	if a.IsNull() {
		return ""
	}
	local := a.Local
	if !isDotString(local) {
		local = quote(local)
	}
	if a.Domain == "" {
		return local
	}
	return local + "@" + a.Domain
}

// Param is one ESMTP parameter (RFC 5321 section 4.1.2 esmtp-param).
type Param struct {
	Key   string // upper case
	Value string
	HasEq bool
}

// PathError is a syntax error in MAIL FROM or RCPT TO, with the text that
// follows "Invalid FROM: " or "Invalid TO: " in the reply.
type PathError struct{ Msg string }

func (e *PathError) Error() string { return e.Msg }

// ParseMail parses the arguments of MAIL ("FROM:<path> params").
func ParseMail(args string) (Address, []Param, error) {
	return parsePathArg(args, "FROM:", true)
}

// ParseRcpt parses the arguments of RCPT ("TO:<path> params").
func ParseRcpt(args string) (Address, []Param, error) {
	return parsePathArg(args, "TO:", false)
}

func parsePathArg(args, prefix string, nullOK bool) (Address, []Param, error) {
	if len(args) < len(prefix) || !strings.EqualFold(args[:len(prefix)], prefix) {
		return Address{}, nil, &PathError{Msg: "Invalid parameters"}
	}
	rest := strings.TrimLeft(args[len(prefix):], " ")
	p := pathParser{s: rest}
	addr, err := p.path()
	if err != nil {
		return Address{}, nil, err
	}
	if addr.IsNull() && !nullOK {
		return Address{}, nil, &PathError{Msg: "Null path not allowed"}
	}
	params, err := parseParams(p.s[p.i:])
	if err != nil {
		return Address{}, nil, err
	}
	return addr, params, nil
}

func parseParams(s string) ([]Param, error) {
	if s == "" {
		return nil, nil
	}
	if s[0] != ' ' {
		return nil, &PathError{Msg: "Invalid character after path"}
	}
	var out []Param
	for _, f := range strings.Fields(s) {
		k, v, eq := strings.Cut(f, "=")
		if k == "" || !isKeyword(k) {
			return nil, &PathError{Msg: "Invalid parameter syntax"}
		}
		out = append(out, Param{Key: strings.ToUpper(k), Value: v, HasEq: eq})
	}
	return out, nil
}

func isKeyword(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !isAlnum(c) && !(c == '-' && i > 0) {
			return false
		}
	}
	return true
}

// pathParser reads a Path (RFC 5321 section 4.1.2): "<" [A-d-l ":"]
// Mailbox ">", where the domain may be missing (LMTP local users).
type pathParser struct {
	s string
	i int
}

func (p *pathParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pathParser) path() (Address, error) {
	if p.peek() != '<' {
		return Address{}, &PathError{Msg: "Missing '<' at beginning of path"}
	}
	p.i++
	if p.peek() == '>' {
		p.i++
		return Address{}, nil
	}
	if p.peek() == '@' {
		if err := p.sourceRoute(); err != nil {
			return Address{}, err
		}
	}
	local, err := p.localPart()
	if err != nil {
		return Address{}, err
	}
	var domain string
	if p.peek() == '@' {
		p.i++
		if domain, err = p.domain(); err != nil {
			return Address{}, err
		}
	}
	if p.peek() != '>' {
		return Address{}, &PathError{Msg: "Missing '>' at end of path"}
	}
	p.i++
	return Address{Local: local, Domain: domain}, nil
}

// sourceRoute skips an obsolete "@a,@b:" route.
func (p *pathParser) sourceRoute() error {
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return &PathError{Msg: "Invalid source route"}
	}
	p.i += end + 1
	return nil
}

func (p *pathParser) localPart() (string, error) {
	if p.peek() == '"' {
		return p.quoted()
	}
	start := p.i
	for p.i < len(p.s) && (isAtext(p.s[p.i]) || p.s[p.i] == '.') {
		p.i++
	}
	if p.i == start {
		return "", &PathError{Msg: "Invalid character in localpart"}
	}
	if c := p.peek(); c != '@' && c != '>' {
		return "", &PathError{Msg: "Invalid character in localpart"}
	}
	return p.s[start:p.i], nil
}

func (p *pathParser) quoted() (string, error) {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\' && p.i+1 < len(p.s):
			// RFC 5321 section 4.1.2: quoted-pairSMTP is a backslash
			// and a printable character.
			if q := p.s[p.i+1]; q < 0x20 || q == 0x7f {
				return "", &PathError{Msg: "Invalid character in quoted localpart"}
			}
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		case c < 0x20 || c == 0x7f:
			return "", &PathError{Msg: "Invalid character in quoted localpart"}
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return "", &PathError{Msg: "Missing '\"' at end of quoted localpart"}
}

func (p *pathParser) domain() (string, error) {
	start := p.i
	if p.peek() == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			return "", &PathError{Msg: "Invalid domain literal"}
		}
		p.i += end + 1
		return p.s[start:p.i], nil
	}
	for p.i < len(p.s) && (isAlnum(p.s[p.i]) || p.s[p.i] == '-' || p.s[p.i] == '.' || p.s[p.i] >= 0x80) {
		p.i++
	}
	if p.i == start {
		return "", &PathError{Msg: "Missing domain"}
	}
	return p.s[start:p.i], nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isAtext is RFC 5322 atext, plus UTF-8 octets (RFC 6531).
func isAtext(c byte) bool {
	return isAlnum(c) || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0 || c >= 0x80
}

func isDotString(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAtext(s[i]) && s[i] != '.' {
			return false
		}
	}
	return true
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}
