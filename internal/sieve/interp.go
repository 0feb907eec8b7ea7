package sieve

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"roost/internal/message"
	"roost/internal/sieve/syntax"
)

// Errors a caller can test for.
var (
	ErrMailboxNotFound = errors.New("mailbox does not exist")
	ErrScriptNotFound  = errors.New("script does not exist")
)

// RuntimeError is a runtime failure with the script position.
type RuntimeError struct {
	Script string
	Line   int
	Msg    string
}

func (e *RuntimeError) Error() string {
	return fmt.Sprintf("%s: line %d: error: %s.", e.Script, e.Line, e.Msg)
}

// control flow sentinels
type flowStop struct{}
type flowReturn struct{}
type flowBreak struct{ name string }

func (flowStop) Error() string   { return "stop" }
func (flowReturn) Error() string { return "return" }
func (flowBreak) Error() string  { return "break" }

// runner is one evaluation of a program (and the scripts it includes).
type runner struct {
	ctx      context.Context
	env      *Env
	cfg      *Config
	res      *Result
	prog     *Program
	vars     map[string]string
	globals  map[string]string
	matchVal []string
	flags    string // imap4flags internal variable
	flagsOn  bool
	cancel   bool // implicit keep cancelled
	steps    int
	// message state
	hdr   []message.Field
	root  *message.Part
	raw   []byte
	edits bool
	// include bookkeeping
	depth    int
	includes int
	once     map[string]bool
	// foreverypart
	parts []*message.Part
	// duplicate: ids checked in this run, marked on execute
	dupIDs  []dupMark
	notifys int
	// extlists: lists loaded in this run
	lists map[string]*extList
	// hooks for the test suite
	hook      any
	stopClock context.CancelFunc
}

// suiteVariables is the test suite's hook for its "tst" namespace.
type suiteVariables interface{ suiteVariable(name string) string }

type dupMark struct {
	id      string
	seconds uint64
}

// Run evaluates prog against env. It never fails: a runtime error is
// recorded in Result.Err and the result falls back to the implicit keep.
func Run(ctx context.Context, prog *Program, env *Env) *Result {
	r := newRunner(ctx, env)
	r.runProgram(prog)
	return r.finish()
}

func newRunner(ctx context.Context, env *Env) *runner {
	r := &runner{ctx: ctx, env: env, cfg: env.settings(), res: &Result{}, globals: map[string]string{}, once: map[string]bool{}}
	if env.Message != nil {
		r.raw = env.Message.Bytes()
		r.root = env.Message.Root()
		r.hdr = append([]message.Field(nil), env.Message.Header()...)
	} else {
		r.root = &message.Part{}
	}
	r.flags = strings.Join(env.Flags, " ")
	if d := r.cfg.MaxCPUTime; d > 0 {
		r.ctx, r.stopClock = context.WithTimeout(ctx, d)
	}
	return r
}

func (r *runner) runProgram(prog *Program) {
	r.prog = prog
	r.vars = map[string]string{}
	if prog.required["imap4flags"] {
		r.flagsOn = true
	}
	err := r.block(prog.nodes)
	r.fail(err)
}

// fail records a runtime error, if err is one.
func (r *runner) fail(err error) {
	if err == nil || r.res.Err != nil {
		return
	}
	var s flowStop
	var ret flowReturn
	if errors.As(err, &s) || errors.As(err, &ret) {
		return
	}
	r.res.Err = err
}

func (r *runner) finish() *Result {
	if r.stopClock != nil {
		r.stopClock()
	}
	res := r.res
	if res.Err != nil {
		res.Actions = nil
		res.ImplicitKeep = true
		res.KeepFlags = nil
		return res
	}
	res.ImplicitKeep = !r.cancel
	res.dups = r.dupIDs
	if r.flagsOn {
		res.KeepFlags = flagList(r.flags)
	}
	if r.edits {
		res.Message = r.editedMessage()
	}
	return res
}

// config returns a raw setting by name.
func (r *runner) config(name string) (string, bool) {
	v, ok := r.cfg.Raw[name]
	return v, ok
}

func (r *runner) errorf(n *node, format string, args ...any) error {
	return &RuntimeError{Script: n.prog.Name, Line: n.Pos.Line, Msg: fmt.Sprintf(format, args...)}
}

// block runs commands, handling if/elsif/else chains.
func (r *runner) block(nodes []*node) error {
	taken := false
	for _, n := range nodes {
		if err := r.ctx.Err(); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return r.errorf(n, "execution exceeded CPU time limit")
			}
			return fmt.Errorf("sieve run: %w", err)
		}
		r.steps++
		if r.steps > MaxRuntimeSteps {
			return r.errorf(n, "execution exceeded CPU time limit")
		}
		switch n.spec.name {
		case "if", "elsif", "else":
			if n.spec.name != "if" && taken {
				continue
			}
			ok := true
			if n.spec.name != "else" {
				var err error
				if ok, err = r.test(n.tests[0]); err != nil {
					return err
				}
			}
			taken = ok
			if ok {
				if err := r.block(n.block); err != nil {
					return err
				}
			}
			continue
		}
		taken = false
		if err := n.spec.run(r, n); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) test(n *node) (bool, error) {
	r.steps++
	if r.steps > MaxRuntimeSteps || r.ctx.Err() != nil {
		return false, r.errorf(n, "execution exceeded CPU time limit")
	}
	return n.spec.eval(r, n)
}

// expand substitutes variables in s when the script uses them (RFC 5229
// section 3).
func (r *runner) expand(s string) string {
	if !r.prog.required["variables"] || !strings.Contains(s, "${") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 || !validVarRef(rest[:j]) {
			b.WriteString("${")
			s = rest
			continue
		}
		b.WriteString(r.lookupVar(rest[:j]))
		s = rest[j+1:]
	}
	return truncateUTF8(b.String(), r.maxVarSize()*4)
}

func validVarRef(name string) bool {
	if name == "" {
		return false
	}
	if name[0] >= '0' && name[0] <= '9' {
		for i := 0; i < len(name); i++ {
			if name[i] < '0' || name[i] > '9' {
				return false
			}
		}
		return true
	}
	for _, part := range strings.Split(name, ".") {
		if !validIdentifier(part) {
			return false
		}
	}
	return true
}

func validIdentifier(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func (r *runner) lookupVar(name string) string {
	if name[0] >= '0' && name[0] <= '9' {
		i, err := strconv.Atoi(name)
		if err != nil || i >= len(r.matchVal) {
			return ""
		}
		return r.matchVal[i]
	}
	lname := strings.ToLower(name)
	if strings.HasPrefix(lname, "env.") && r.prog.required["vnd.dovecot.environment"] {
		return r.envVariable(lname[4:])
	}
	if rest, ok := strings.CutPrefix(lname, "global."); ok {
		return r.globals[rest]
	}
	if rest, ok := strings.CutPrefix(lname, "tst."); ok {
		if h, ok := r.hook.(suiteVariables); ok {
			return h.suiteVariable(rest)
		}
	}
	if v, ok := r.vars[lname]; ok {
		return v
	}
	return r.globals[lname]
}

func (r *runner) setVar(name, value string) {
	name = strings.ToLower(name)
	value = truncateUTF8(value, r.maxVarSize())
	if strings.HasPrefix(name, "global.") {
		r.globals[name[7:]] = value
		return
	}
	if r.isGlobal(name) {
		r.globals[name] = value
		return
	}
	r.vars[name] = value
}

func (r *runner) isGlobal(name string) bool {
	_, ok := r.vars["\x00global:"+name]
	return ok
}

func (r *runner) maxVarSize() int {
	if n := r.cfg.VariablesMaxVariableSize; n > 0 {
		return n
	}
	return MaxVariableSize
}

func truncateUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && max < len(s) && s[max]&0xC0 == 0x80 {
		max--
	}
	return s[:max]
}

// strs returns the expanded strings of an argument.
func (r *runner) strs(a *syntax.Arg) []string {
	out := make([]string, len(a.Strings))
	for i, s := range a.Strings {
		out[i] = r.expand(s)
	}
	return out
}

// pstr is the expanded single string of positional argument i.
func (r *runner) pstr(n *node, i int) string { return r.expand(n.pos[i].Strings[0]) }

// tstr is the expanded string parameter of a tag.
func (r *runner) tstr(n *node, tag string) (string, bool) {
	s, ok := n.tagStr(tag)
	if !ok {
		return "", false
	}
	return r.expand(s), true
}

// matchKeys runs the node's match against values and keys, setting match
// variables on success.
func (r *runner) matchKeys(n *node, values []string, keysArg *syntax.Arg) (bool, error) {
	m := &matcher{spec: n.match}
	keys := r.strs(keysArg)
	if m.spec.typ == "list" {
		v, ok, err := r.listMatch(values, keys)
		if err != nil {
			return false, r.errorf(n, "%v", err)
		}
		if ok && r.prog.required["variables"] {
			r.matchVal = []string{v}
		}
		return ok, nil
	}
	ok := m.match(values, keys)
	if m.err != nil { // an invalid run-time regex is a warning and no match, as in Pigeonhole
		r.res.Warnings = append(r.res.Warnings, m.err.Error())
	}
	if ok && (m.spec.typ == "matches" || m.spec.typ == "regex") && r.prog.required["variables"] {
		if len(m.values) > MaxMatchValues {
			m.values = m.values[:MaxMatchValues]
		}
		r.matchVal = m.values
	}
	return ok, nil
}

// headerValues returns the decoded values of the named header fields.
func (r *runner) headerValues(fields []message.Field, names []string) []string {
	var out []string
	for _, name := range names {
		for _, f := range fields {
			if strings.EqualFold(string(f.Name), name) {
				out = append(out, strings.TrimRight(message.DecodedHeaderValue(f.Value), " \t"))
			}
		}
	}
	return out
}

// indexed applies :index/:last (RFC 5260 section 6) to values of one
// header.
func (r *runner) indexed(n *node, values []string) []string {
	a, ok := n.tags["index"]
	if !ok {
		return values
	}
	i := int(a.Number)
	if i < 1 || i > len(values) {
		return nil
	}
	if n.has("last") {
		return values[len(values)-i : len(values)-i+1]
	}
	return values[i-1 : i]
}
