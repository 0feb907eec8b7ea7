package sieve

import (
	"strings"
	"unicode/utf8"

	"roost/internal/message"
)

// Pigeonhole's sieve_extprograms plugin: vnd.dovecot.pipe (pipe the
// message to a program as an action), vnd.dovecot.filter (replace the
// message by a program's output) and vnd.dovecot.execute (run a program,
// optionally reading its output into a variable). Programs come only from
// the administrator's sieve_<ext>_bin_dir; they run without a shell, with
// a timeout (sieve_<ext>_exec_timeout, default 10s) and with the
// environment Pigeonhole sets (USER, HOME, HOST, SENDER, RECIPIENT,
// ORIG_RECIPIENT). The extensions are never enabled by default: an
// administrator adds them to sieve_extensions or sieve_global_extensions.
// Programs behind sockets (sieve_<ext>_socket_dir) are not supported.

// ActPipe is the pipe action (vnd.dovecot.pipe).
const ActPipe ActionKind = "pipe"

// extprogramsCapabilities are the extensions of sieve_extprograms.
var extprogramsCapabilities = []string{"vnd.dovecot.pipe", "vnd.dovecot.filter", "vnd.dovecot.execute"}

func extprogramsSpecs() []*spec {
	prog := []posDef{{aString, "program-name"}, {aStringList, "arguments"}}
	execTags := func() map[string]tagDef {
		return map[string]tagDef{
			"input":  {param: aString, group: "input"},
			"pipe":   {group: "input"},
			"output": {param: aString, ext: "variables"},
		}
	}
	return []*spec{
		{name: "pipe", ext: "vnd.dovecot.pipe", tags: map[string]tagDef{"copy": {ext: "copy"}, "try": {}},
			pos: prog, optional: 1, check: checkProgram, run: runPipe},
		{name: "filter", ext: "vnd.dovecot.filter", pos: prog, optional: 1, check: checkProgram,
			run: func(r *runner, n *node) error { _, err := runFilter(r, n, false); return err }},
		{name: "filter", ext: "vnd.dovecot.filter", test: true, pos: prog, optional: 1, check: checkProgram,
			eval: func(r *runner, n *node) (bool, error) { return runFilter(r, n, true) }},
		{name: "execute", ext: "vnd.dovecot.execute", tags: execTags(), pos: prog, optional: 1, check: checkExecute,
			run: func(r *runner, n *node) error { _, err := runExecute(r, n, false); return err }},
		{name: "execute", ext: "vnd.dovecot.execute", test: true, tags: execTags(), pos: prog, optional: 1, check: checkExecute,
			eval: func(r *runner, n *node) (bool, error) { return runExecute(r, n, true) }},
	}
}

// checkProgram validates literal program names and arguments.
func checkProgram(v *validator, n *node) {
	name := n.pos[0].Strings[0]
	if !hasVariables(v, name) && !validProgramName(name) {
		v.errorf(n.pos[0].Pos, "%s %s: invalid program name '%s'", n.spec.name, n.spec.kind(), strings.ToValidUTF8(name, "?"))
	}
	if len(n.pos) < 2 {
		return
	}
	for _, a := range n.pos[1].Strings {
		if !hasVariables(v, a) && !validProgramArg(a) {
			v.errorf(n.pos[1].Pos, "%s %s: invalid program argument", n.spec.name, n.spec.kind())
			return
		}
	}
}

func checkExecute(v *validator, n *node) {
	checkProgram(v, n)
	if a, ok := n.tags["output"]; ok && len(a.Strings) > 0 {
		name := a.Strings[0]
		if !validVarRef(name) || name[0] >= '0' && name[0] <= '9' {
			v.errorf(a.Pos, "execute %s: invalid variable name '%s' for :output", n.spec.kind(), name)
			return
		}
		v.declareVar(a.Pos, name)
	}
}

// hasVariables reports whether s is checked at run time instead: it
// contains a variable reference and the script uses variables.
func hasVariables(v *validator, s string) bool {
	return v.prog.required["variables"] && strings.Contains(s, "${")
}

// validProgramName rejects what could leave the bin directory or confuse
// a log: slashes, control characters, and Unicode line and paragraph
// separators (as Pigeonhole's sieve_extprogram_name_is_valid).
func validProgramName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 128 || !utf8.ValidString(name) {
		return false
	}
	for _, c := range name {
		switch {
		case c == '/', c < 0x20, c >= 0x7f && c <= 0x9f, c == 0x2028, c == 0x2029:
			return false
		}
	}
	return true
}

// validProgramArg rejects arguments with line breaks or other control
// characters (tab allowed).
func validProgramArg(arg string) bool {
	if len(arg) > 1024 || !utf8.ValidString(arg) {
		return false
	}
	for _, c := range arg {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// programCall reads the program name and arguments of n at run time.
func (r *runner) programCall(n *node) (string, []string, error) {
	name := r.pstr(n, 0)
	if !validProgramName(name) {
		return "", nil, r.errorf(n, "%s action: invalid program name '%s'", n.spec.name, strings.ToValidUTF8(name, "?"))
	}
	var args []string
	if len(n.pos) > 1 {
		args = r.strs(n.pos[1])
	}
	for _, a := range args {
		if !validProgramArg(a) {
			return "", nil, r.errorf(n, "%s action: invalid program argument", n.spec.name)
		}
	}
	return name, args, nil
}

func runPipe(r *runner, n *node) error {
	name, args, err := r.programCall(n)
	if err != nil {
		return err
	}
	p := r.program("pipe", name, args)
	p.Try = n.has("try")
	copyKeep := n.has("copy")
	if !copyKeep {
		r.cancel = true
	}
	return r.add(n, &Action{Kind: ActPipe, Pipe: p, Copy: copyKeep})
}

// runFilter pipes the current message through the program and, on
// success, continues with its output as the message.
func runFilter(r *runner, n *node, asTest bool) (bool, error) {
	name, args, err := r.programCall(n)
	if err != nil {
		return false, err
	}
	p := r.program("filter", name, args)
	out, err := p.Run(r.ctx, r.env, r.currentRaw(), true)
	if err != nil {
		if asTest {
			r.res.Warnings = append(r.res.Warnings, "filter action: "+err.Error())
			return false, nil
		}
		return false, r.errorf(n, "filter action: %v", err)
	}
	r.replaceMessage(out)
	return true, nil
}

// replaceMessage makes data the message later tests and actions see.
func (r *runner) replaceMessage(data []byte) {
	data = crlf(data)
	r.raw = data
	r.root = message.Parse(data)
	r.hdr = message.ParseHeader(data[:r.root.Header.Physical])
	r.edits = true // actions store the new message
}

func runExecute(r *runner, n *node, asTest bool) (bool, error) {
	name, args, err := r.programCall(n)
	if err != nil {
		return false, err
	}
	p := r.program("execute", name, args)
	var input []byte
	hasInput := false
	if n.has("pipe") {
		input, hasInput = r.currentRaw(), true
	} else if s, ok := r.tstr(n, "input"); ok {
		input, hasInput = []byte(s), true
	}
	_, wantOut := n.tags["output"]
	out, err := p.Run(r.ctx, r.env, input, hasInput)
	if err != nil {
		if asTest {
			r.res.Warnings = append(r.res.Warnings, "execute action: "+err.Error())
			return false, nil
		}
		return false, r.errorf(n, "execute action: %v", err)
	}
	if wantOut {
		r.setVar(n.tags["output"].Strings[0], string(out))
	}
	return true, nil
}

// crlf turns bare LF line ends into CRLF.
func crlf(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '\n' && (i == 0 || b[i-1] != '\r') {
			if out == nil {
				out = append(make([]byte, 0, len(b)+16), b[:i]...)
			}
			out = append(out, '\r')
		}
		if out != nil {
			out = append(out, b[i])
		}
	}
	if out == nil {
		return b
	}
	return out
}
