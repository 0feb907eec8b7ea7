package sieve

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"roost/internal/sieve/syntax"
)

// Program is a compiled (parsed and validated) script.
type Program struct {
	Name     string
	nodes    []*node
	required map[string]bool
	enabled  map[string]bool // extensions the script could require (ihave)
	includes []*node         // include commands, resolved at compile time
	// Warnings are the compile warnings of a script that compiled.
	Warnings syntax.ErrorList
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
	// include is set on include commands.
	include *includeRef
	// ihave is 1 for an ihave test whose extensions were loaded, -1 for
	// one that is constant false (unknown or restricted extension).
	ihave int
}

func (n *node) has(tag string) bool { _, ok := n.tags[tag]; return ok }

// Options configure compilation.
type Options struct {
	// Extensions enabled for require; nil means DefaultExtensions.
	Extensions []string
	// Config holds the settings consulted at compile time (script size,
	// include limits); nil means DefaultConfig.
	Config *Config
	// Scripts, when set, loads included scripts at compile time: include
	// errors (missing scripts, circular includes, limits) are compile
	// errors, as in Pigeonhole. Without it includes load at run time from
	// Env.Scripts.
	Scripts Scripts
	// Location is "personal" or "global" when the script being compiled
	// is itself one Scripts can load (for circular-include detection).
	Location string
	// extra specs (the test suite's vnd.dovecot.testsuite)
	extra []*spec
	// extraExt names extensions the extra specs belong to.
	extraExt []string
}

// CompileError is the error Compile returns: every error with its position.
type CompileError struct {
	Script string
	// Phase is "parse", "validation" or "code generation", as
	// Pigeonhole's summary line says.
	Phase  string
	Errors syntax.ErrorList
	// Warnings found before the errors (Pigeonhole prints them with
	// "warning:"; its test suite counts them with the errors).
	Warnings syntax.ErrorList
}

func (e *CompileError) Error() string {
	var b strings.Builder
	for i, err := range e.Errors {
		if i > 0 {
			b.WriteByte('\n')
		}
		script := err.Script
		if script == "" {
			script = e.Script
		}
		fmt.Fprintf(&b, "%s: line %d: error: %s.", script, err.Pos.Line, err.Msg)
	}
	return b.String()
}

// Summary is Pigeonhole's closing line, "NAME: error: validation failed."
func (e *CompileError) Summary() string {
	phase := e.Phase
	if phase == "" {
		phase = "validation"
	}
	return fmt.Sprintf("%s: error: %s failed.", e.Script, phase)
}

// Compile parses and validates a script; see CompileContext.
func Compile(name string, src []byte, opts Options) (*Program, error) {
	return CompileContext(context.Background(), name, src, opts)
}

// CompileContext parses and validates a script and, when opts.Scripts is
// set, compiles the scripts it includes. ctx bounds the script loads.
func CompileContext(ctx context.Context, name string, src []byte, opts Options) (*Program, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = DefaultConfig()
	}
	if cfg.MaxScriptSize > 0 && len(src) > cfg.MaxScriptSize {
		return nil, &CompileError{Script: name, Errors: syntax.ErrorList{{Pos: syntax.Pos{Line: 1, Col: 1},
			Msg: fmt.Sprintf("script is too large (max %d bytes)", cfg.MaxScriptSize)}}}
	}
	ast, errs := syntax.Parse(src)
	if len(errs) > 0 {
		return nil, &CompileError{Script: name, Phase: "parse", Errors: errs}
	}
	v := newValidator(ctx, name, opts)
	prog := v.validate(ast)
	if len(v.errs) > 0 {
		return nil, &CompileError{Script: name, Phase: "validation", Errors: v.errs, Warnings: v.warns}
	}
	if opts.Scripts != nil && len(prog.includes) > 0 {
		g := &generator{v: v, progs: map[string]*Program{}}
		self := ""
		if opts.Location != "" {
			self = opts.Location + "/" + name
		}
		if !g.generate(prog, []string{self}) {
			return nil, &CompileError{Script: name, Phase: "code generation", Errors: v.errs, Warnings: v.warns}
		}
	}
	prog.Warnings = v.warns
	return prog, nil
}

type validator struct {
	ctx      context.Context
	opts     Options
	cfg      *Config
	prog     *Program
	specs    map[string]*spec
	enabled  map[string]bool
	errs     syntax.ErrorList
	warns    syntax.ErrorList
	reported map[string]bool
	// misplacedRequire are top-level requires after other commands.
	misplacedRequire map[*syntax.Command]bool
	loops            int // foreverypart nesting
	vars             varScope
	loopNames        []string
}

func newValidator(ctx context.Context, name string, opts Options) *validator {
	v := &validator{ctx: ctx, opts: opts, cfg: opts.Config, prog: &Program{Name: name, required: map[string]bool{}}, specs: specs(),
		enabled: map[string]bool{}, reported: map[string]bool{}, misplacedRequire: map[*syntax.Command]bool{}}
	if v.cfg == nil {
		v.cfg = DefaultConfig()
	}
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
	v.prog.enabled = v.enabled
	return v
}

// warnf records a compile warning.
func (v *validator) warnf(p syntax.Pos, format string, args ...any) {
	if len(v.warns) < syntax.MaxErrors {
		v.warns = append(v.warns, &syntax.Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
}

func (v *validator) errorf(p syntax.Pos, format string, args ...any) {
	v.errorAt("", p, format, args...)
}

// errorAt records an error in another script (an included one) or, with
// script "", in this one.
func (v *validator) errorAt(script string, p syntax.Pos, format string, args ...any) {
	if script == v.prog.Name {
		script = ""
	}
	if len(v.errs) < syntax.MaxErrors {
		v.errs = append(v.errs, &syntax.Error{Script: script, Pos: p, Msg: fmt.Sprintf(format, args...)})
	}
}

func (v *validator) validate(s *syntax.Script) *Program {
	inRequire := true
	for _, c := range s.Commands {
		if c.Name == "require" {
			if inRequire {
				v.require(c)
			} else {
				v.misplacedRequire[c] = true // reported in order by commands
			}
			continue
		}
		inRequire = false
	}
	v.requireDependencies(s)
	v.prog.nodes = v.commands(s.Commands, true)
	return v.prog
}

// requireDependencies reports extensions required without one they
// depend on (RFC 5703 section 7: extracttext needs foreverypart).
func (v *validator) requireDependencies(s *syntax.Script) {
	if !v.prog.required["extracttext"] {
		return
	}
	for _, c := range s.Commands {
		if c.Name == "require" && len(c.Args) == 1 && slices.Contains(c.Args[0].Strings, "extracttext") {
			for _, dep := range []string{"foreverypart", "variables"} {
				if !v.prog.required[dep] {
					v.errorf(c.Pos, "extracttext extension cannot be used without %s extension", dep)
				}
			}
			return
		}
	}
}

func (v *validator) require(c *syntax.Command) {
	switch {
	case len(c.Args) != 1:
		v.errorf(c.Pos, "the require command requires 1 positional argument(s), but %d is/are specified", len(c.Args))
		return
	case c.Args[0].Kind == syntax.ArgTag || c.Args[0].Kind == syntax.ArgNumber:
		v.errorf(c.Args[0].Pos, "the require command accepts a single string or string list argument, but %s was found", argDescribe(c.Args[0]))
		return
	case len(c.Tests) > 0:
		v.errorf(c.Pos, "the require command accepts no sub-tests, but tests are specified")
		return
	case c.HasBlock:
		v.errorf(c.Pos, "the require command does not accept a command block, but one is specified anyway")
		return
	}
	for _, ext := range c.Args[0].Strings {
		if kind := coreName(ext); kind != "" {
			v.errorf(c.Pos, "require command: `%s' is not known as a Sieve capability, but it is known as a Sieve %s that is always available", ext, kind)
			continue
		}
		if !v.enabled[ext] || !v.known(ext) {
			v.errorf(c.Pos, "require command: unknown Sieve capability `%s'", ext)
			continue
		}
		v.prog.required[ext] = true
	}
	v.impliedExtensions()
}

// coreName tells whether name is a core command or test, which require
// does not take ("command", "test" or "").
func coreName(name string) string {
	switch name {
	case "keep", "discard", "redirect", "stop", "if", "elsif", "else", "require":
		return "command"
	case "address", "allof", "anyof", "exists", "false", "header", "not", "size", "true":
		return "test"
	}
	return ""
}

// impliedExtensions loads the extensions others imply.
func (v *validator) impliedExtensions() {
	if v.prog.required["spamtestplus"] {
		v.prog.required["spamtest"] = true
	}
	if v.prog.required["vnd.dovecot.environment"] {
		v.prog.required["environment"] = true
	}
	if v.prog.required["vacation-seconds"] {
		v.prog.required["vacation"] = true
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
			if !top || v.misplacedRequire[c] {
				v.errorf(c.Pos, "require commands can only be placed at top level at the beginning of the file")
			}
			continue
		}
		if (c.Name == "elsif" || c.Name == "else") && !prevIf {
			v.errorf(c.Pos, "the %s command must follow an if or elseif command", c.Name)
		}
		prevIf = c.Name == "if" || c.Name == "elsif"
		if n, _ := v.command(c, false); n != nil {
			out = append(out, n)
		}
	}
	return out
}

// lookup resolves a command or test name as Pigeonhole's validator does:
// an unknown name is reported once, later uses fail silently.
func (v *validator) lookup(c *syntax.Command, test bool) *spec {
	kind := "command"
	if test {
		kind = "test"
	}
	name := strings.ToLower(c.Name)
	if v.reported["unknown:"+name] {
		return nil
	}
	s := v.available(key(test, name))
	if s != nil {
		return s
	}
	if other := v.available(key(!test, name)); other != nil {
		v.errorf(c.Pos, "attempted to use %s '%s' as %s", other.kind(), c.Name, kind)
		return nil
	}
	v.reported["unknown:"+name] = true
	v.errorf(c.Pos, "unknown %s '%s' (only reported once at first occurrence)", kind, c.Name)
	return nil
}

// available returns the spec for key when its extension is loaded.
func (v *validator) available(k string) *spec {
	s := v.specs[k]
	if s != nil && (s.ext == "" || v.prog.required[s.ext]) {
		return s
	}
	return nil
}

// command validates one command or test and what it contains, in
// Pigeonhole's order: arguments, sub-test count, block, the command's own
// checks, then the tests and the block (skipped when a test is constant
// false, as for ihave of a missing extension). It returns nil on error.
func (v *validator) command(c *syntax.Command, test bool) (*node, int) {
	s := v.lookup(c, test)
	if s == nil {
		return nil, -1
	}
	n := &node{Command: c, spec: s, prog: v.prog, tags: map[string]*syntax.Arg{}}
	before := len(v.errs)
	ok := true
	switch {
	case !v.arguments(n):
		ok = false
		v.subtestCount(n)
	case !v.subtestCount(n) || !test && !v.blockCheck(n):
		ok = false
	case s.check != nil:
		s.check(v, n)
	}
	if ok && v.prog.required["variables"] {
		v.checkVarRefs(n)
	}
	ok = ok && len(v.errs) == before
	konst := -1
	if n.ihave != 0 {
		konst = 0
		if n.ihave > 0 {
			konst = -1
		}
	}
	if s.subtests != 0 {
		var tok bool
		tok, konst = v.subtests(n)
		ok = ok && tok
	}
	if ok && konst == 0 {
		return n, 0
	}
	if s.block && !test {
		v.enterLoop(n)
		n.block = v.commands(c.Block, false)
		v.leaveLoop(n)
	}
	if !ok || len(v.errs) > before {
		return nil, -1
	}
	return n, konst
}

// subtests validates the tests of a test-taking command; konst is the
// combined constant value (0 false, 1 true, -1 known at run time only).
func (v *validator) subtests(n *node) (bool, int) {
	ok := true
	var consts []int
	for _, t := range n.Command.Tests {
		tn, k := v.command(t, true)
		if tn == nil {
			ok = false
			continue
		}
		n.tests = append(n.tests, tn)
		consts = append(consts, k)
	}
	if !ok || len(consts) == 0 {
		return ok, -1
	}
	switch n.spec.name {
	case "not":
		if consts[0] >= 0 {
			return true, 1 - consts[0]
		}
	case "allof":
		for _, k := range consts {
			if k == 0 {
				return true, 0
			}
		}
	case "if", "elsif":
		return true, consts[0]
	}
	return true, -1
}

func (v *validator) enterLoop(n *node) {
	if n.spec.name != "foreverypart" {
		return
	}
	v.loops++
	name, _ := n.tagStr("name")
	v.loopNames = append(v.loopNames, name)
	if v.loops > MaxLoopNesting {
		v.errorf(n.Pos, "the nested foreverypart loop exceeds the nesting limit (<= %d levels)", MaxLoopNesting)
	}
}

func (v *validator) leaveLoop(n *node) {
	if n.spec.name == "foreverypart" {
		v.loops--
		v.loopNames = v.loopNames[:len(v.loopNames)-1]
	}
}

func (v *validator) blockCheck(n *node) bool {
	s, c := n.spec, n.Command
	if s.block && !c.HasBlock {
		v.errorf(c.Pos, "the %s command requires a command block, but it is missing", c.Name)
		return false
	}
	if !s.block && c.HasBlock {
		v.errorf(c.Pos, "the %s command does not accept a command block, but one is specified anyway", c.Name)
		return false
	}
	return true
}

// subtestCount checks the number of sub-tests.
func (v *validator) subtestCount(n *node) bool {
	s, c := n.spec, n.Command
	what := fmt.Sprintf("the %s %s", c.Name, s.kind())
	switch {
	case s.subtests == 0 && len(c.Tests) > 0:
		t := c.Tests[0]
		other := v.specs[key(true, strings.ToLower(t.Name))]
		_, isTag := s.tags[strings.ToLower(t.Name)]
		isTag = isTag || s.ext == "vnd.dovecot.report" // Pigeonhole's report takes any identifier for a tag here
		switch {
		case other != nil:
			v.errorf(c.Pos, "%s accepts no sub-tests, but tests are specified", what)
		case isTag:
			v.errorf(c.Pos, "missing colon ':' before ':%s' tag in %s %s", t.Name, c.Name, s.kind())
		default:
			v.errorf(c.Pos, "missing semicolon ';' after %s %s", c.Name, s.kind())
		}
		return false
	case s.subtests == 1 && len(c.Tests) == 0:
		v.errorf(c.Pos, "%s requires one sub-test, but none is specified", what)
		return false
	case s.subtests == 1 && (len(c.Tests) > 1 || c.TestList):
		v.errorf(c.Pos, "%s requires one sub-test, but a list of tests is specified", what)
		return false
	case s.subtests == -1 && len(c.Tests) == 0:
		v.errorf(c.Pos, "%s requires a list of sub-tests, but none is specified", what)
		return false
	case s.subtests == -1 && !c.TestList:
		v.errorf(c.Pos, "%s requires a list of sub-tests, but a single test is specified", what)
		return false
	}
	return true
}

func (v *validator) arguments(n *node) bool {
	s, c := n.spec, n.Command
	args := c.Args
	groups := map[string]string{}
	i := 0
	for ; i < len(args) && args[i].Kind == syntax.ArgTag; i++ {
		a := args[i]
		tag := strings.ToLower(a.Tag) // tags are case-insensitive
		td, ok := s.tags[tag]
		if ok && td.ext != "" && !v.prog.required[td.ext] {
			ok = false
		}
		if !ok {
			v.unknownTag(n, a)
			return false
		}
		if g := td.group; g != "" {
			if prev, dup := groups[g]; dup && (prev != tag || g == "size") {
				v.errorf(a.Pos, "%s", groupConflict(g, a.Tag, prev, c.Name, s.kind()))
				return false
			}
			groups[g] = tag
		}
		if _, dup := n.tags[tag]; dup {
			v.errorf(a.Pos, "encountered duplicate :%s argument for the %s %s", a.Tag, c.Name, s.kind())
			return false
		}
		if td.param == aNone {
			n.tags[tag] = a
			continue
		}
		if i+1 < len(args) && args[i+1].Kind == syntax.ArgTag {
			if !v.knownTag(s, args[i+1].Tag) {
				v.unknownTag(n, args[i+1])
			} else if rel := tag == "value" || tag == "count"; rel {
				v.errorf(a.Pos, "the :%s match-type requires a constant string argument being one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\", but none was found", a.Tag)
			} else {
				v.errorf(a.Pos, "the :%s tag for the %s %s requires %s as parameter, but a tag was found", a.Tag, c.Name, s.kind(), td.param.describe())
			}
			return false
		}
		if i+1 >= len(args) && (tag == "value" || tag == "count") {
			v.errorf(a.Pos, "the :%s match-type requires a constant string argument being one of \"gt\", \"ge\", \"lt\", \"le\", \"eq\" or \"ne\", but none was found", a.Tag)
			return false
		}
		if i+1 >= len(args) || !argFits(td.param, args[i+1]) {
			if i+1 >= len(args) {
				v.errorf(a.Pos, "the :%s tag for the %s %s requires %s as parameter, but no parameters were found", a.Tag, c.Name, s.kind(), td.param.describe())
			} else {
				v.errorf(args[i+1].Pos, "the :%s tag for the %s %s requires %s as parameter, but %s was found", a.Tag, c.Name, s.kind(), td.param.describe(), argDescribe(args[i+1]))
			}
			return false
		}
		i++
		n.tags[tag] = args[i]
	}
	return v.positional(n, args[i:])
}

// groupConflict words a second tag of one group as Pigeonhole does.
func groupConflict(group, tag, prev, name, kind string) string {
	switch group {
	case "addrpart":
		return fmt.Sprintf("encountered duplicate ADDRESS-PART argument (:%s) for the %s %s", tag, name, kind)
	case "size":
		return "exactly one of the ':under' or ':over' tags must be specified for the size test, but more were found"
	case "transform":
		return fmt.Sprintf("encountered duplicate :%s argument for the %s %s", tag, name, kind)
	case "id":
		return fmt.Sprintf("conflicting :header and :uniqueid arguments specified for the %s %s", name, kind)
	case "mimeopt":
		return fmt.Sprintf("the :type, :subtype, :contenttype, and :param arguments for the %s %s are mutually exclusive, but more than one was specified", name, kind)
	}
	return fmt.Sprintf("the %s %s: tagged argument ':%s' conflicts with earlier ':%s'", name, kind, tag, prev)
}

// knownTag reports whether the command takes the tag (its extension
// required).
func (v *validator) knownTag(s *spec, tag string) bool {
	td, ok := s.tags[strings.ToLower(tag)]
	return ok && (td.ext == "" || v.prog.required[td.ext])
}

// unknownTag reports an unknown tag, once per command and tag, as
// Pigeonhole.
func (v *validator) unknownTag(n *node, a *syntax.Arg) {
	s, c := n.spec, n.Command
	once := "tag:" + s.kind() + c.Name + ":" + strings.ToLower(a.Tag)
	if !v.reported[once] {
		v.reported[once] = true
		if c.Name == "spamtest" && strings.EqualFold(a.Tag, "percent") {
			v.errorf(a.Pos, "the spamtest test only accepts the :percent argument when the spamtestplus extension is active")
			return
		}
		v.errorf(a.Pos, "unknown tagged argument ':%s' for the %s %s (reported only once at first occurrence)", a.Tag, c.Name, s.kind())
	}
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

func (v *validator) positional(n *node, args []*syntax.Arg) bool {
	s, c := n.spec, n.Command
	what := fmt.Sprintf("the %s %s", c.Name, s.kind())
	for _, a := range args {
		if a.Kind == syntax.ArgTag && !v.knownTag(s, a.Tag) {
			v.unknownTag(n, a)
			return false
		}
		if a.Kind == syntax.ArgTag {
			v.errorf(a.Pos, "encountered an unexpected tagged argument ':%s' while validating positional arguments for %s", a.Tag, what)
			return false
		}
	}
	if s.optional == 0 && len(args) != len(s.pos) {
		v.errorf(n.Pos, "%s requires %d positional argument(s), but %d is/are specified", what, len(s.pos), len(args))
		return false
	}
	if len(args) < len(s.pos)-s.optional || len(args) > len(s.pos) {
		if len(args) == 0 {
			arg := "argument" // Pigeonhole's wording differs between commands
			if s.name == "deleteheader" {
				arg = "positional argument"
			}
			v.errorf(n.Pos, "%s expects at least one %s, but none was found", what, arg)
		} else {
			v.errorf(n.Pos, "%s requires %d positional argument(s), but %d is/are specified", what, len(s.pos), len(args))
		}
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
