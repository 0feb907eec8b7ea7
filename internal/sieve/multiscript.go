package sieve

import (
	"context"
	"strings"
)

// Multiscript runs a sequence of scripts for one message as Pigeonhole's
// multiscript does (sieve_before scripts, the personal script and the
// sieve_after scripts at delivery; test_multiscript in the test suite):
// each script's actions are executed before the next script runs; the
// next script sees the message as edited so far and the imap4flags
// internal variable (applied even when it does not require imap4flags);
// the sequence stops when a script cancels the implicit keep or fails at
// run time; only the implicit keep of the script that ends the sequence
// is performed.
type Multiscript struct {
	env     *Env
	x       *Executor
	flags   string // the internal flag variable after the last script
	started bool
	done    bool
	// pending is the deferred implicit keep of the last script run, for
	// Finish.
	pending *Result
	hook    any // the test suite's runner hook
}

// NewMultiscript starts a sequence on env (whose Message it updates as
// scripts edit it), executing actions with x.
func NewMultiscript(env *Env, x *Executor) *Multiscript {
	return &Multiscript{env: env, x: x, flags: strings.Join(env.Flags, " ")}
}

// Done reports that the sequence has stopped: a script cancelled the
// implicit keep or failed.
func (m *Multiscript) Done() bool { return m.done }

// Run runs prog and executes its actions. With last, its implicit keep
// is performed now; otherwise it is deferred to the next script or to
// Finish. The result is returned for its Debug, Warnings and Err; the
// error is the first action that failed. After Done, Run does nothing
// and returns nil.
func (m *Multiscript) Run(ctx context.Context, prog *Program, last bool) (*Result, error) {
	if m.done {
		return nil, nil
	}
	r := newRunner(ctx, m.env)
	r.hook = m.hook
	if m.started {
		r.flags, r.flagsOn = m.flags, m.flags != "" // flags set by an earlier script still apply
	}
	m.started = true
	r.runProgram(prog)
	res := r.finish()
	keep := res.ImplicitKeep
	m.pending = nil
	switch {
	case res.Err != nil:
		m.done = true // the failed script's implicit keep ends the sequence
	case !keep:
		m.done = true
	case !last:
		res.ImplicitKeep = false
		m.pending = res
	}
	err := res.Execute(ctx, m.env, m.x)
	res.ImplicitKeep = keep
	if res.Message != nil {
		m.env.Message = ParseMessage(res.Message)
	}
	m.flags = r.flags
	return res, err
}

// Finish performs the implicit keep that the last script run deferred
// (a later script was not run: it failed to compile).
func (m *Multiscript) Finish(ctx context.Context) error {
	p := m.pending
	m.pending, m.done = nil, true
	if p == nil {
		return nil
	}
	k := &Result{ImplicitKeep: true, KeepFlags: p.KeepFlags, Message: p.Message}
	return k.Execute(ctx, m.env, m.x)
}
