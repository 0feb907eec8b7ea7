package sieve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Limits of a program run: its output (an execute :output value, a filter
// result) and the standard error kept for the log.
const (
	maxProgramOutput = 64 << 20
	maxProgramStderr = 4 << 10
	// programWaitDelay bounds the wait for a killed program's pipes.
	programWaitDelay = 2 * time.Second
)

// defaultProgramTimeout is sieve_<ext>_exec_timeout's default.
const defaultProgramTimeout = 10 * time.Second

// ProgramCall is one run of an external program of the extprograms
// extensions, resolved from the configuration when the script ran.
type ProgramCall struct {
	// Ext is "pipe", "filter" or "execute".
	Ext string
	// Dir is sieve_<ext>_bin_dir ("" when not configured).
	Dir  string
	Name string
	Args []string
	// Timeout is sieve_<ext>_exec_timeout; 0 means none.
	Timeout time.Duration
	// LF is sieve_<ext>_input_eol = lf: input is given with LF line
	// ends instead of CRLF.
	LF bool
	// Try is pipe :try: a failure is logged, not an error.
	Try bool
}

// program resolves a call of ext's program name with args.
func (r *runner) program(ext, name string, args []string) *ProgramCall {
	p := &ProgramCall{Ext: ext, Name: name, Args: args, Timeout: defaultProgramTimeout}
	p.Dir, _ = r.config("sieve_" + ext + "_bin_dir")
	if v, ok := r.config("sieve_" + ext + "_exec_timeout"); ok {
		if secs, err := parseDuration(v); err == nil {
			p.Timeout = time.Duration(secs) * time.Second
		}
	}
	if v, _ := r.config("sieve_" + ext + "_input_eol"); strings.EqualFold(strings.TrimSpace(v), "lf") {
		p.LF = true
	}
	return p
}

// path returns the program's file, which must be an executable regular
// file inside Dir.
func (p *ProgramCall) path() (string, error) {
	if p.Dir == "" {
		return "", fmt.Errorf("program `%s' not found: sieve_%s_bin_dir is not set", p.Name, p.Ext)
	}
	if !validProgramName(p.Name) {
		return "", fmt.Errorf("invalid program name `%s'", p.Name)
	}
	path := filepath.Join(p.Dir, p.Name)
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("program `%s' not found", p.Name)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("program `%s' is not an executable file", p.Name)
	}
	return path, nil
}

// Run executes the program with input on its standard input (nothing,
// when hasInput is false) and returns its standard output. A program that
// exits non-zero, cannot start or runs past the timeout is an error; on a
// timeout its whole process group is killed.
func (p *ProgramCall) Run(ctx context.Context, env *Env, input []byte, hasInput bool) ([]byte, error) {
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, path, p.Args...)
	cmd.Env = programEnviron(env)
	cmd.Dir = "/" // as Dovecot: nothing of the daemon's working directory
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = programWaitDelay
	if hasInput {
		cmd.Stdin = bytes.NewReader(p.eol(input))
	}
	stdout := &capped{max: maxProgramOutput}
	stderr := &capped{max: maxProgramStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && p.Timeout > 0:
		return nil, fmt.Errorf("program `%s' execution timed out after %d seconds", p.Name, int(p.Timeout/time.Second))
	case err != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg != "" {
			return nil, fmt.Errorf("program `%s' failed: %v: %s", p.Name, err, msg)
		}
		return nil, fmt.Errorf("program `%s' failed: %v", p.Name, err)
	case stdout.over:
		return nil, fmt.Errorf("program `%s' output exceeds %d bytes", p.Name, maxProgramOutput)
	}
	return stdout.Bytes(), nil
}

// eol converts input to the configured line ends.
func (p *ProgramCall) eol(b []byte) []byte {
	if p.LF {
		return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	}
	return crlf(b)
}

// programEnviron is the environment Pigeonhole gives programs: no PATH
// (the shell's default applies), the user, home and host, and the
// envelope when there is one.
func programEnviron(env *Env) []string {
	var out []string
	add := func(k, v string) {
		if v != "" && !strings.ContainsAny(v, "\x00\r\n") {
			out = append(out, k+"="+v)
		}
	}
	user := env.User
	if u, ok := env.Environment["vnd.dovecot.username"]; ok && u != "" {
		user = u
	}
	if user == "" {
		user = env.Envelope.To
	}
	add("USER", user)
	add("HOME", env.Home)
	host := "localhost"
	if h, ok := env.Environment["host"]; ok && h != "" {
		host = h
	}
	add("HOST", host)
	add("SENDER", env.Envelope.From)
	add("RECIPIENT", env.Envelope.To)
	add("ORIG_RECIPIENT", env.Envelope.OrigTo)
	return out
}

// capped is a buffer that keeps at most max bytes and notes the excess.
type capped struct {
	bytes.Buffer
	max  int
	over bool
}

func (c *capped) Write(b []byte) (int, error) {
	if room := c.max - c.Len(); len(b) > room {
		c.over = true
		if room > 0 {
			c.Buffer.Write(b[:room])
		}
		return len(b), nil
	}
	return c.Buffer.Write(b)
}

// runPipeAction executes a pipe action with msg: the program must read it
// and exit successfully. Without :try a failure is an error; with :try it
// is only a warning (returned as warn).
func runPipeAction(ctx context.Context, env *Env, a *Action, msg []byte) (warn string, err error) {
	p := a.Pipe
	var failed error
	if _, err := p.path(); err != nil {
		failed = fmt.Errorf("failed to pipe message to program `%s': %w", p.Name, err)
	} else if _, err := p.Run(ctx, env, msg, true); err != nil {
		failed = errors.Join(err, fmt.Errorf("failed to pipe message to program `%s'", p.Name))
	}
	if failed != nil && p.Try {
		return strings.ReplaceAll(failed.Error(), "\n", "; "), nil
	}
	return "", failed
}

// executePipe runs a pipe action; a :try failure becomes a warning.
func (r *Result) executePipe(ctx context.Context, env *Env, a *Action, msg []byte) error {
	warn, err := runPipeAction(ctx, env, a, msg)
	if warn != "" {
		r.Warnings = append(r.Warnings, "pipe action: "+warn)
	}
	return err
}
