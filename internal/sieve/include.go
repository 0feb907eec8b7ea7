package sieve

import (
	"errors"
	"strings"
	"unicode"

	"roost/internal/sieve/syntax"
)

// Include (RFC 6609) is resolved at compile time as Pigeonhole does when
// Options.Scripts is set: validation checks that each included script
// exists, code generation compiles every included script once (shared by
// location and name across the whole include tree), rejecting circular
// includes, nesting deeper than sieve_include_max_nesting_depth and more
// than sieve_include_max_includes scripts. Without Options.Scripts the
// scripts are loaded from Env.Scripts when the include command runs.

// includeRef is what validation learned about one include command.
type includeRef struct {
	loc, name string
	missing   bool   // optional script that does not exist
	src       []byte // nil: not loaded at compile time
	prog      *Program
}

func (ref *includeRef) id() string { return ref.loc + "/" + ref.name }

func includeLocation(n *node) string {
	if n.has("global") {
		return "global"
	}
	return "personal"
}

// invalidScriptName reports names Pigeonhole refuses: path separators,
// control characters, line and paragraph separators.
func invalidScriptName(name string) bool {
	if name == "" || strings.Contains(name, "/") {
		return true
	}
	for _, c := range name {
		if c < 0x20 || c >= 0x7f && c <= 0x9f || c == 0x2028 || c == 0x2029 || c == unicode.ReplacementChar {
			return true
		}
	}
	return false
}

func checkInclude(v *validator, n *node) {
	name := n.pos[0].Strings[0]
	if v.prog.required["variables"] && strings.Contains(name, "${") {
		v.errorf(n.pos[0].Pos, "the include command requires a constant string for its value argument")
		return
	}
	if invalidScriptName(name) {
		v.errorf(n.pos[0].Pos, "include: invalid script name '%s'", controlsAsQuestionMarks(name))
		return
	}
	ref := &includeRef{loc: includeLocation(n), name: name}
	n.include = ref
	if v.opts.Scripts == nil {
		return
	}
	src, err := v.opts.Scripts.Load(v.ctx, ref.loc, name)
	switch {
	case errors.Is(err, ErrScriptNotFound) && n.has("optional"):
		ref.missing = true
	case errors.Is(err, ErrScriptNotFound):
		v.errorf(n.Pos, "included %s script '%s' does not exist", ref.loc, name)
	case err != nil:
		v.errorf(n.Pos, "failed to open included %s script '%s': %v", ref.loc, name, err)
	default:
		ref.src = src
	}
	v.prog.includes = append(v.prog.includes, n)
}

// generator resolves the include tree of one compilation.
type generator struct {
	v     *validator // the main script's validator: options, limits, errors
	progs map[string]*Program
}

// generate compiles the scripts prog includes; stack holds the ids of
// the scripts being generated (prog's own id last, "" when unknown).
func (g *generator) generate(prog *Program, stack []string) bool {
	for _, n := range prog.includes {
		if !g.include(prog, n, stack) {
			return false
		}
	}
	return true
}

func (g *generator) include(prog *Program, n *node, stack []string) bool {
	ref, cfg := n.include, g.v.cfg
	fail := func(format string, args ...any) bool {
		g.v.errorAt(prog.Name, n.Pos, format, args...)
		return false
	}
	if len(stack)-1 >= cfg.IncludeMaxNestingDepth {
		return fail("cannot nest includes deeper than %d levels", cfg.IncludeMaxNestingDepth)
	}
	if !n.has("once") {
		for _, id := range stack {
			if id == ref.id() {
				return fail("circular include")
			}
		}
	}
	if done, ok := g.progs[ref.id()]; ok {
		ref.prog = done
		return true
	}
	if len(g.progs) >= cfg.IncludeMaxIncludes {
		return fail("failed to include script '%s': no more than %d includes allowed", ref.name, cfg.IncludeMaxIncludes)
	}
	if ref.missing || ref.src == nil {
		g.progs[ref.id()] = nil
		return true
	}
	sub, phase := g.v.compileIncluded(ref)
	g.progs[ref.id()] = sub
	switch phase {
	case "parse":
		return fail("failed to parse included script '%s'", ref.name)
	case "validation":
		return fail("failed to validate included script '%s'", ref.name)
	}
	ref.prog = sub
	if !g.generate(sub, append(stack, ref.id())) {
		return fail("failed to generate code for included script '%s'", ref.name)
	}
	return true
}

// compileIncluded parses and validates an included script, reporting its
// errors under its own name; phase is where it failed ("" = it did not).
func (v *validator) compileIncluded(ref *includeRef) (*Program, string) {
	ast, perrs := syntax.Parse(ref.src)
	for _, e := range perrs {
		v.errorAt(ref.name, e.Pos, "%s", e.Msg)
	}
	if len(perrs) > 0 {
		return nil, "parse"
	}
	opts := v.opts
	opts.Location = ref.loc
	sub := newValidator(v.ctx, ref.name, opts)
	prog := sub.validate(ast)
	for _, e := range sub.errs {
		v.errorAt(ref.name, e.Pos, "%s", e.Msg)
	}
	if len(sub.errs) > 0 {
		return nil, "validation"
	}
	return prog, ""
}

func runInclude(r *runner, n *node) error {
	ref := n.include
	if ref == nil {
		return r.errorf(n, "include: invalid script name '%s'", r.pstr(n, 0))
	}
	if n.has("once") && r.once[ref.id()] {
		return nil
	}
	r.once[ref.id()] = true
	if ref.missing {
		return nil
	}
	prog := ref.prog
	if prog == nil {
		var err error
		if prog, err = r.loadInclude(n, ref); prog == nil || err != nil {
			return err
		}
	}
	return r.runIncluded(prog)
}

// loadInclude compiles an include at run time (the program was compiled
// without Options.Scripts); nil without error means "optional and
// missing".
func (r *runner) loadInclude(n *node, ref *includeRef) (*Program, error) {
	if r.depth >= r.cfg.IncludeMaxNestingDepth {
		return nil, r.errorf(n, "cannot nest includes deeper than %d levels", r.cfg.IncludeMaxNestingDepth)
	}
	r.includes++
	if r.includes > r.cfg.IncludeMaxIncludes {
		return nil, r.errorf(n, "total number of included scripts exceeds the limit (%d)", r.cfg.IncludeMaxIncludes)
	}
	if r.env.Scripts == nil {
		if n.has("optional") {
			return nil, nil
		}
		return nil, r.errorf(n, "included %s script '%s' does not exist", ref.loc, ref.name)
	}
	src, err := r.env.Scripts.Load(r.ctx, ref.loc, ref.name)
	if errors.Is(err, ErrScriptNotFound) && n.has("optional") {
		return nil, nil
	}
	if err != nil {
		return nil, r.errorf(n, "failed to include %s script '%s': %v", ref.loc, ref.name, err)
	}
	prog, err := Compile(ref.name, src, Options{Extensions: r.enabledExts(), Config: r.cfg})
	if err != nil {
		return nil, r.errorf(n, "failed to compile included %s script '%s': %v", ref.loc, ref.name, err)
	}
	return prog, nil
}

func (r *runner) runIncluded(prog *Program) error {
	saveProg, saveVars, saveMatch := r.prog, r.vars, r.matchVal
	r.depth++
	r.prog, r.vars = prog, map[string]string{}
	if prog.required["imap4flags"] {
		r.flagsOn = true
	}
	err := r.block(prog.nodes)
	r.depth--
	r.prog, r.vars, r.matchVal = saveProg, saveVars, saveMatch
	var ret flowReturn
	if errors.As(err, &ret) {
		return nil
	}
	return err
}
