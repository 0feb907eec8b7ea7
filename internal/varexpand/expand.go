package varexpand

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Lookup resolves a variable by its long name ("user") or its one-letter
// short name ("u").
type Lookup interface {
	Lookup(name string) (string, bool)
}

// LookupFunc adapts a function to Lookup.
type LookupFunc func(name string) (string, bool)

// Lookup calls f.
func (f LookupFunc) Lookup(name string) (string, bool) { return f(name) }

// Map is a Lookup keyed by long names; a one-letter name is first looked up
// as written, then through LongName.
type Map map[string]string

// Lookup returns the value of name.
func (m Map) Lookup(name string) (string, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	if len(name) == 1 {
		if long := LongName(name[0]); long != "" {
			v, ok := m[long]
			return v, ok
		}
	}
	return "", false
}

// LongName returns the long name of the mail-process short variable c
// (Dovecot's mail_user variable table), or "" if c has none.
func LongName(c byte) string {
	switch c {
	case 'u':
		return "user"
	case 'n':
		return "username"
	case 'd':
		return "domain"
	case 's':
		return "service"
	case 'h':
		return "home"
	case 'l':
		return "lip"
	case 'r':
		return "rip"
	case 'p':
		return "pid"
	case 'i':
		return "uid"
	case 'a':
		return "lport"
	case 'b':
		return "rport"
	case 'c':
		return "secured"
	case 'm':
		return "mech"
	case 'k':
		return "cert"
	}
	return ""
}

// ErrUnknown is wrapped by the error Expand returns for unknown variables.
var ErrUnknown = errors.New("unknown variable")

// Expander expands templates with an escaping hook.
type Expander struct {
	// Vars resolves variables.
	Vars Lookup
	// Escape, if set, is applied to every variable's value before the
	// modifiers (SQL and LDAP drivers pass their quoting function).
	Escape func(string) string
	// Getenv resolves %{env:NAME}; nil means os.Getenv.
	Getenv func(string) string
}

// Expand expands template with vars and no escaping.
func Expand(template string, vars Lookup) (string, error) {
	return Expander{Vars: vars}.Expand(template)
}

// Expand expands template. On unknown variables it returns the expansion,
// with each unknown variable left as written, and an error naming the first.
func (e Expander) Expand(template string) (string, error) {
	if !strings.Contains(template, "%") {
		return template, nil
	}
	var b strings.Builder
	var firstErr error
	for i := 0; i < len(template); {
		c := template[i]
		if c != '%' || i+1 >= len(template) {
			b.WriteByte(c)
			i++
			continue
		}
		n, err := e.expandOne(&b, template[i:])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		i += n
	}
	return b.String(), firstErr
}

// maxWidth caps widths and offsets so a template cannot ask for unbounded
// zero padding.
const maxWidth = 4096

// spec is one parsed %-directive.
type spec struct {
	offset    int
	width     int
	zeroPad   bool
	modifiers string
	name      string // long name, or one byte for short names
	long      bool
}

// expandOne expands the directive at the start of s ("%...") into b and
// returns how many bytes it consumed.
func (e Expander) expandOne(b *strings.Builder, s string) (int, error) {
	sp, n, ok := parseSpec(s)
	if !ok {
		b.WriteString(s[:n])
		return n, nil
	}
	if !sp.long && sp.name == "%" {
		b.WriteByte('%')
		return n, nil
	}
	v, found := e.value(sp)
	if !found {
		b.WriteString(s[:n])
		return n, fmt.Errorf("%w %q", ErrUnknown, s[:n])
	}
	if e.Escape != nil {
		v = e.Escape(v)
	}
	b.WriteString(sp.apply(v))
	return n, nil
}

func (e Expander) value(sp spec) (string, bool) {
	if sp.long {
		if env, ok := strings.CutPrefix(sp.name, "env:"); ok {
			if e.Getenv != nil {
				return e.Getenv(env), true
			}
			return os.Getenv(env), true
		}
	}
	if e.Vars == nil {
		return "", false
	}
	return e.Vars.Lookup(sp.name)
}

// parseSpec parses "%[-]off.[0]width[mods]var" at the start of s. It
// returns ok=false and n=1 for a lone "%" that cannot start a directive.
func parseSpec(s string) (spec, int, bool) {
	var sp spec
	i := 1
	num := func() int {
		sign := 1
		if i < len(s) && s[i] == '-' {
			sign = -1
			i++
		}
		if i < len(s) && s[i] == '0' {
			sp.zeroPad = true
			i++
		}
		v := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			v = min(v*10+int(s[i]-'0'), maxWidth)
			i++
		}
		return sign * v
	}
	sp.width = num()
	if i < len(s) && s[i] == '.' {
		i++
		sp.offset, sp.zeroPad = sp.width, false
		sp.width = num()
	}
	start := i
	for i+1 < len(s) && strings.IndexByte("LUERXMHNDT", s[i]) >= 0 {
		i++
	}
	sp.modifiers = s[start:i]
	if i >= len(s) {
		return sp, len(s), false
	}
	if s[i] == '{' {
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return sp, len(s), false
		}
		sp.name, sp.long = s[i+1:i+end], true
		return sp, i + end + 1, true
	}
	sp.name = s[i : i+1]
	return sp, i + 1, true
}

// apply runs the modifiers, then the offset and width, on v.
func (sp spec) apply(v string) string {
	for j := 0; j < len(sp.modifiers); j++ {
		v = sp.modify(sp.modifiers[j], v)
	}
	switch {
	case sp.offset > 0:
		if sp.offset >= len(v) {
			v = ""
		} else {
			v = v[sp.offset:]
		}
	case sp.offset < 0:
		if -sp.offset < len(v) {
			v = v[len(v)+sp.offset:]
		}
	}
	switch {
	case sp.width == 0:
	case sp.zeroPad:
		if len(v) < sp.width {
			v = strings.Repeat("0", sp.width-len(v)) + v
		}
	case sp.width > 0:
		if sp.width < len(v) {
			v = v[:sp.width]
		}
	default:
		if -sp.width < len(v) {
			v = v[:len(v)+sp.width]
		} else {
			v = ""
		}
	}
	return v
}

// modify applies one modifier. H and N use the width as their modulus and
// pad to the offset, then clear both, as Dovecot does.
func (sp *spec) modify(m byte, v string) string {
	switch m {
	case 'L':
		return strings.ToLower(v)
	case 'U':
		return strings.ToUpper(v)
	case 'E':
		return escape(v)
	case 'R':
		return reverse(v)
	case 'X':
		u, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			u = 0
		}
		return strconv.FormatUint(u, 16)
	case 'M':
		sum := md5.Sum([]byte(v))
		return hex.EncodeToString(sum[:])
	case 'H':
		return sp.hash(uint64(strHash(v)))
	case 'N':
		sum := md5.Sum([]byte(v))
		return sp.hash(binary.BigEndian.Uint64(sum[:8]))
	case 'D':
		return strings.ReplaceAll(v, ".", ",dc=")
	case 'T':
		return strings.TrimRight(v, " \t\r\n")
	}
	return v
}

func (sp *spec) hash(h uint64) string {
	if sp.width > 0 {
		h %= uint64(sp.width)
	}
	s := strconv.FormatUint(h, 16)
	if sp.offset > len(s) {
		s = strings.Repeat("0", sp.offset-len(s)) + s
	}
	sp.width, sp.offset, sp.zeroPad = 0, 0, false
	return s
}

// strHash is Dovecot's str_hash (the PJW hash).
func strHash(s string) uint32 {
	var h uint32
	for i := 0; i < len(s); i++ {
		h = h<<4 + uint32(s[i])
		if g := h & 0xf0000000; g != 0 {
			h ^= g >> 24
			h ^= g
		}
	}
	return h
}

func escape(s string) string {
	if !strings.ContainsAny(s, `\"'`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '"' || c == '\'' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
