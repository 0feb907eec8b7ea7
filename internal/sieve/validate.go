package sieve

import (
	"fmt"
	"strings"

	"roost/internal/sieve/syntax"
)

// Program is a compiled (parsed and validated) script.
type Program struct {
	Name     string
	nodes    []*node
	required map[string]bool
	// includes for sieve-test style listing
}

// Requires reports whether the script requires ext.
func (p *Program) Requires(ext string) bool { return p.required[ext] }

// node is a validated command or test.
type node struct {
	*syntax.Command
	spec  *spec
	prog  *Program
	tags  map[string]*syntax.Arg // tag -> its parameter (the tag itself when it takes none)
	pos   []*syntax.Arg
	tests []*node
	block []*node
	match matchSpec
	part  string // address part
}

func (n *node) has(tag string) bool { _, ok := n.tags[tag]; return ok }

// Options configure compilation.
type Options struct {
	// Extensions enabled for require; nil means DefaultExtensions.
	Extensions []string
	// Config holds settings consulted at compile time (none yet besides
	// the extension list); kept for symmetry with Env.Config.
	Config map[string]string
	// extra specs (the test suite's vnd.dovecot.testsuite)
	extra []*spec
	// extraExt names extensions the extra specs belong to.
	extraExt []string
}

// CompileError is the error Compile returns: every error with its position.
type CompileError struct {
	Script string
	// Phase is "parse" or "validation", as Pigeonhole's summary line says.
	Phase  string
	Errors syntax.ErrorList
}

func (e *CompileError) Error() string {
	var b strings.Builder
	for i, err := range e.Errors {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s: line %d: error: %s.", e.Script, err.Pos.Line, err.Msg)
	}
	return b.String()
}

// Compile parses and validates a script.
func Compile(name string, src []byte, opts Options) (*Program, error) {
	if len(src) > MaxScriptSize {
		return nil, &CompileError{Script: name, Errors: syntax.ErrorList{{Pos: syntax.Pos{Line: 1, Col: 1},
			Msg: fmt.Sprintf("script is too large (max %d bytes)", MaxScriptSize)}}}
	}
	ast, errs := syntax.Parse(src)
	if len(errs) > 0 {
		return nil, &CompileError{Script: name, Phase: "parse", Errors: errs}
	}
	v := newValidator(name, opts)
	prog := v.validate(ast)
	if len(v.errs) > 0 {
		return nil, &CompileError{Script: name, Phase: "validation", Errors: v.errs}
	}
	return prog, nil
}

type validator struct {
	prog      *Program
	specs     map[string]*spec
	enabled   map[string]bool
	errs      syntax.ErrorList
	reported  map[string]bool
	loops     int // foreverypart nesting
	loopNames []string
}

func newValidator(name string, opts Options) *validator {
	v := &validator{prog: &Program{Name: name, required: map[string]bool{}}, specs: specs(),
		enabled: map[string]bool{}, reported: map[string]bool{}}
	exts := opts.Extensions
	if exts == nil {
		exts = DefaultExtensions
	}
	for _, e := range exts {
		v.enabled[e] = true
	}
	v.enabled["comparator-i;octet"] = true
	v.enabled["comparator-i;ascii-casemap"] = true
	for _, s := range opts.extra {
		v.specs[key(s.test, s.name)] = s
	}
	for _, e := range opts.extraExt {
		v.enabled[e] = true
	}
	return v
}

func (v *validator) errorf(p syntax.Pos, format string, args ...any) {
	if len(v.errs) < syntax.MaxErrors {
		v.errs = append(v.errs, &syntax.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
}

func (v *validator) validate(s *syntax.Script) *Program {
	inRequire := true
	for _, c := range s.Commands {
		if c.Name == "require" {
			if !inRequire {
				v.errorf(c.Pos, "require commands can only be placed at top level at the beginning of the file")
				continue
			}
			v.require(c)
			continue
		}
		inRequire = false
	}
	v.prog.nodes = v.commands(s.Commands, true)
	return v.prog
}

func (v *validator) require(c *syntax.Command) {
	if len(c.Args) != 1 || c.Args[0].Kind == syntax.ArgTag || c.Args[0].Kind == syntax.ArgNumber {
		v.errorf(c.Pos, "the require command expects a string list as argument 1 (capabilities)")
		return
	}
	if len(c.Tests) > 0 || c.HasBlock {
		v.errorf(c.Pos, "the require command accepts no sub-tests or block")
	}
	for _, ext := range c.Args[0].Strings {
		if !v.enabled[ext] || !v.known(ext) {
			v.errorf(c.Pos, "require command: unknown Sieve capability `%s'", ext)
			continue
		}
		v.prog.required[ext] = true
	}
	if v.prog.required["spamtestplus"] {
		v.prog.required["spamtest"] = true
	}
	if v.prog.required["vacation-seconds"] {
		v.prog.required["vacation"] = true
	}
	if v.prog.required["foreverypart"] && false {
		v.prog.required["mime"] = true
	}
}

func (v *validator) known(ext string) bool {
	if implemented(ext) {
		return true
	}
	for _, s := range v.specs {
		if s.ext == ext {
			return true
		}
	}
	return false
}

func (v *validator) commands(cmds []*syntax.Command, top bool) []*node {
	var out []*node
	prevIf := false
	for _, c := range cmds {
		if c.Name == "require" {
			if !top {
				v.errorf(c.Pos, "require commands can only be placed at top level at the beginning of the file")
			}
			continue
		}
		if (c.Name == "elsif" || c.Name == "else") && !prevIf {
			v.errorf(c.Pos, "the %s command must follow an if or elseif command", c.Name)
		}
		prevIf = c.Name == "if" || c.Name == "elsif"
		if n := v.command(c, false); n != nil {
			out = append(out, n)
		}
	}
	return out
}

func (v *validator) lookup(c *syntax.Command, test bool) *spec {
	s := v.specs[key(test, c.Name)]
	if s != nil && (s.ext == "" || v.prog.required[s.ext]) {
		return s
	}
	other := v.specs[key(!test, c.Name)]
	if s == nil && other != nil && (other.ext == "" || v.prog.required[other.ext]) {
		if test {
			v.errorf(c.Pos, "attempted to use command '%s' in test context", c.Name)
		} else {
			v.errorf(c.Pos, "attempted to use test '%s' in command context", c.Name)
		}
		return nil
	}
	kind := "command"
	if test {
		kind = "test"
	}
	if !v.reported[kind+c.Name] {
		v.reported[kind+c.Name] = true
		v.errorf(c.Pos, "unknown %s '%s' (only reported once at first occurrence)", kind, c.Name)
	}
	return nil
}

func (v *validator) command(c *syntax.Command, test bool) *node {
	s := v.lookup(c, test)
	if s == nil {
		return nil
	}
	n := &node{Command: c, spec: s, prog: v.prog, tags: map[string]*syntax.Arg{}}
	if !v.arguments(n) {
		return nil
	}
	v.subtests(n)
	v.blockCheck(n)
	if s.check != nil {
		s.check(v, n)
	}
	if s.name == "foreverypart" {
		v.loops++
		name := ""
		if a, ok := n.tags["name"]; ok {
			name = a.Strings[0]
		}
		v.loopNames = append(v.loopNames, name)
		if v.loops > MaxLoopNesting {
			v.errorf(c.Pos, "the nested foreverypart loop exceeds the nesting limit (max %d levels)", MaxLoopNesting)
		}
	}
	if c.HasBlock && s.block {
		n.block = v.commands(c.Block, false)
	}
	if s.name == "foreverypart" {
		v.loops--
		v.loopNames = v.loopNames[:len(v.loopNames)-1]
	}
	return n
}

func (v *validator) blockCheck(n *node) {
	s, c := n.spec, n.Command
	if s.test {
		return
	}
	if s.block && !c.HasBlock {
		v.errorf(c.Pos, "the %s command requires a command block, but it is missing", s.name)
	}
	if !s.block && c.HasBlock {
		v.errorf(c.Pos, "missing semicolon ';' after %s command (the %s command does not accept a block)", s.name, s.name)
	}
}

func (v *validator) subtests(n *node) {
	s, c := n.spec, n.Command
	what := fmt.Sprintf("the %s %s", s.name, s.kind())
	switch {
	case s.subtests == 0 && len(c.Tests) > 0:
		v.errorf(c.Pos, "%s accepts no sub-tests, but tests are specified", what)
		return
	case s.subtests == 1 && (len(c.Tests) != 1 || c.TestList):
		if len(c.Tests) == 0 {
			v.errorf(c.Pos, "%s requires one test, but none is specified", what)
		} else {
			v.errorf(c.Pos, "%s requires one test, but a test list is specified", what)
		}
		return
	case s.subtests == -1 && !c.TestList:
		v.errorf(c.Pos, "%s requires a list of tests, but a single test is specified", what)
		return
	}
	for _, t := range c.Tests {
		if tn := v.command(t, true); tn != nil {
			n.tests = append(n.tests, tn)
		}
	}
}

func (v *validator) arguments(n *node) bool {
	s, c := n.spec, n.Command
	what := fmt.Sprintf("the %s %s", s.name, s.kind())
	args := c.Args
	groups := map[string]string{}
	i := 0
	for ; i < len(args) && args[i].Kind == syntax.ArgTag; i++ {
		a := args[i]
		td, ok := s.tags[a.Tag]
		if ok && td.ext != "" && !v.prog.required[td.ext] {
			ok = false
		}
		if !ok {
			v.errorf(a.Pos, "unknown tagged argument ':%s' for the %s %s (reported only once at first occurrence)", a.Tag, s.name, s.kind())
			return false
		}
		if g := td.group; g != "" {
			if prev, dup := groups[g]; dup {
				v.errorf(a.Pos, "%s: tagged argument ':%s' conflicts with earlier ':%s'", what, a.Tag, prev)
				return false
			}
			groups[g] = a.Tag
		}
		if _, dup := n.tags[a.Tag]; dup {
			v.errorf(a.Pos, "encountered duplicate tagged argument ':%s' for the %s %s", a.Tag, s.name, s.kind())
			return false
		}
		if td.param == aNone {
			n.tags[a.Tag] = a
			continue
		}
		if i+1 >= len(args) || !argFits(td.param, args[i+1]) {
			found := "none"
			if i+1 < len(args) {
				found = argDescribe(args[i+1])
			}
			v.errorf(a.Pos, "the :%s tag for the %s %s requires %s as parameter, but %s was found", a.Tag, s.name, s.kind(), td.param.describe(), found)
			return false
		}
		i++
		n.tags[a.Tag] = args[i]
	}
	return v.positional(n, args[i:], what)
}

func argFits(t argType, a *syntax.Arg) bool {
	switch t {
	case aString:
		return a.Kind == syntax.ArgString
	case aStringList:
		return a.Kind == syntax.ArgString || a.Kind == syntax.ArgStringList
	case aNumber:
		return a.Kind == syntax.ArgNumber
	}
	return false
}

func (v *validator) positional(n *node, args []*syntax.Arg, what string) bool {
	s := n.spec
	for j, a := range args {
		if a.Kind == syntax.ArgTag {
			if j < len(s.pos) {
				v.errorf(a.Pos, "unexpected tagged argument ':%s' while expecting %s as argument %d (%s) of %s",
					a.Tag, s.pos[j].typ.describe(), j+1, s.pos[j].name, what)
			} else {
				v.errorf(a.Pos, "unexpected tagged argument ':%s' for %s", a.Tag, what)
			}
			return false
		}
	}
	if len(args) < len(s.pos)-s.optional || len(args) > len(s.pos) {
		v.errorf(n.Pos, "%s requires %d positional argument(s), but %d is/are specified", what, len(s.pos), len(args))
		return false
	}
	for j, a := range args {
		if !argFits(s.pos[j].typ, a) {
			v.errorf(a.Pos, "%s expects %s as argument %d (%s), but %s was found", what, s.pos[j].typ.describe(), j+1, s.pos[j].name, argDescribe(a))
			return false
		}
	}
	n.pos = args
	v.encodedCharacters(n)
	if _, ok := s.tags["comparator"]; ok {
		v.matchArgs(n)
	}
	if _, ok := s.tags["all"]; ok {
		n.part = "all"
		for _, p := range []string{"localpart", "domain", "user", "detail"} {
			if n.has(p) {
				n.part = p
			}
		}
	}
	return true
}

// encodedCharacters decodes ${hex:} and ${unicode:} in every string
// argument when the script requires encoded-character (RFC 5228 section
// 2.4.2.4).
func (v *validator) encodedCharacters(n *node) {
	if !v.prog.required["encoded-character"] {
		return
	}
	fix := func(a *syntax.Arg) {
		if a.Kind != syntax.ArgString && a.Kind != syntax.ArgStringList {
			return
		}
		for i, s := range a.Strings {
			out, err := decodeEncodedCharacters(s)
			if err != "" {
				v.errorf(a.Pos, "%s", err)
			}
			a.Strings[i] = out
		}
	}
	for _, a := range n.Args {
		fix(a)
	}
}

// stringArg returns the single string of positional argument i.
func (n *node) str(i int) string { return n.pos[i].Strings[0] }

// tagStr returns the string parameter of tag, and whether it was given.
func (n *node) tagStr(tag string) (string, bool) {
	a, ok := n.tags[tag]
	if !ok || len(a.Strings) == 0 {
		return "", ok
	}
	return a.Strings[0], true
}
