package config

import (
	"fmt"
	"strings"
)

// expandVars replaces each white-space separated token "$name" in value by
// the current value of setting name ("$ENV:NAME" by an environment
// variable). A "$" not at the start of a token is kept literally.
func (p *parser) expandVars(pos Pos, key, value string) (string, error) {
	var b strings.Builder
	for i, tok := range splitTokens(value) {
		if i > 0 {
			b.WriteByte(' ')
		}
		if len(tok) < 2 || tok[0] != '$' {
			b.WriteString(tok)
			continue
		}
		name := tok[1:]
		if env, ok := strings.CutPrefix(name, "ENV:"); ok {
			if p.opts.Getenv != nil {
				b.WriteString(p.opts.Getenv(env))
			}
			continue
		}
		v, ok := p.lookup(name)
		if !ok {
			return "", &Error{Pos: pos, Msg: fmt.Sprintf("%s: unknown variable: $%s", key, name)}
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// splitTokens splits s at runs of spaces and tabs.
func splitTokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
}

// lookup finds the value of setting name as set so far: in the innermost
// open section, then the enclosing ones, then the default.
func (p *parser) lookup(name string) (string, bool) {
	for i := len(p.stack) - 1; i >= 0; i-- {
		if n, ok := p.stack[i].Get(name); ok {
			return n.Value, true
		}
	}
	if p.opts.Default != nil {
		return p.opts.Default(name)
	}
	return "", true
}
