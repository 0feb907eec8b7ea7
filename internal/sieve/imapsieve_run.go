package sieve

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ImapsieveEvent describes the IMAP event a script runs for (RFC 6785
// section 3): the environment items imap.user, imap.email, imap.cause,
// imap.mailbox and imap.changedflags.
type ImapsieveEvent struct {
	User, Email string
	// Cause is "APPEND", "COPY" or "FLAG".
	Cause   string
	Mailbox string
	// ChangedFlags are the flags a FLAG event changed.
	ChangedFlags []string
}

// Environment returns the imap.* environment items (RFC 6785 section
// 3.4) merged with Pigeonhole's "location" and "phase" for IMAP.
func (ev ImapsieveEvent) Environment() map[string]string {
	return map[string]string{
		"imap.user": ev.User, "imap.email": ev.Email, "imap.cause": ev.Cause,
		"imap.mailbox": ev.Mailbox, "imap.changedflags": strings.Join(ev.ChangedFlags, " "),
		"location": "MS", "phase": "post",
	}
}

// ImapsieveOutcome is what a sequence of imapsieve scripts decided for one
// stored message (RFC 6785 section 3.2): whether it stays (keep, explicit
// or implicit), its flags, and copies to store elsewhere. Redirects,
// pipes and notifications were already executed.
type ImapsieveOutcome struct {
	// Keep is false when no script kept the message: the caller sets
	// \Deleted (and expunges with imapsieve_expunge_discarded).
	Keep bool
	// Flags are the message's flags after the scripts; FlagsChanged is
	// set when they differ from Env.Flags.
	Flags        []string
	FlagsChanged bool
	// Stores are the fileinto actions, each with its message and flags.
	Stores []*Action
	// Message is the message as edited (editheader, filter) when it is
	// kept: the caller saves it as a new message with Flags and marks the
	// original \Deleted, as Pigeonhole does. Nil when unchanged.
	Message []byte
	// Errors are the scripts' runtime and action errors, for the log.
	Errors []error
	// Warnings are non-fatal problems (pipe :try failures), for the log.
	Warnings []string
}

// ImapsieveRun runs progs in order against env, as Pigeonhole's imapsieve
// plugin runs the before scripts, the mailbox script and the after
// scripts: each later script runs only while the message is still kept,
// and sees the flags the earlier ones set. Redirect, pipe and notify
// actions are executed through x; reject and vacation do not apply to
// stored messages and are ignored. A script that fails keeps the message
// as it is (RFC 5228 section 2.10.6).
func ImapsieveRun(ctx context.Context, progs []*Program, env *Env, x *Executor) *ImapsieveOutcome {
	out := &ImapsieveOutcome{Keep: true, Flags: env.Flags}
	e := *env
	for _, prog := range progs {
		e.Flags = out.Flags
		res := Run(ctx, prog, &e)
		out.Warnings = append(out.Warnings, res.Warnings...)
		if res.Err != nil {
			out.Errors = append(out.Errors, fmt.Errorf("script %s: %w", prog.Name, res.Err))
			return out
		}
		out.apply(ctx, res, &e, x)
		if res.Message != nil {
			out.Message = res.Message
			e.Message = ParseMessage(res.Message) // later scripts see the edits
		}
		if !out.Keep {
			break
		}
	}
	out.FlagsChanged = !sameFlags(out.Flags, env.Flags)
	if !out.Keep {
		out.Message = nil
	}
	return out
}

// apply takes one script's result into the outcome.
func (o *ImapsieveOutcome) apply(ctx context.Context, res *Result, env *Env, x *Executor) {
	side := &Result{}
	keep := res.ImplicitKeep
	flags, flagsSet := res.KeepFlags, res.KeepFlags != nil
	for _, a := range res.Actions {
		switch a.Kind {
		case ActKeep:
			keep = true
			if a.FlagsSet || a.Flags != nil {
				flags, flagsSet = a.Flags, true
			}
		case ActStore:
			if a.Mailbox == env.Environment["imap.mailbox"] { // already there
				keep = true
				if a.FlagsSet || a.Flags != nil {
					flags, flagsSet = a.Flags, true
				}
				continue
			}
			o.Stores = append(o.Stores, a)
		case ActRedirect, ActPipe, ActNotify:
			side.Actions = append(side.Actions, a)
		}
	}
	if len(side.Actions) > 0 {
		if err := side.Execute(ctx, env, x); err != nil {
			o.Errors = append(o.Errors, err)
			// A failed action never loses the message (RFC 5228 section
			// 2.10.6): it is kept as it was, the script's flags dropped,
			// as Pigeonhole does.
			keep, flagsSet = true, false
		}
		o.Warnings = append(o.Warnings, side.Warnings...)
	}
	o.Keep = keep
	if keep && flagsSet {
		o.Flags = flags
	}
}

// sameFlags compares flag sets, case-insensitively and ignoring order.
func sameFlags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, f := range a {
		if !slices.ContainsFunc(b, func(g string) bool { return strings.EqualFold(f, g) }) {
			return false
		}
	}
	return true
}

// ImapsieveScriptPath turns an imapsieve_mailboxN_before/_after location
// into a file path: "file:/path/x.sieve" or "/path/x.sieve", with any
// ";option" suffix dropped. Other storage types are not supported.
func ImapsieveScriptPath(location string) (string, error) {
	loc, _, _ := strings.Cut(location, ";")
	if typ, rest, ok := strings.Cut(loc, ":"); ok && !strings.Contains(typ, "/") {
		if typ != "file" {
			return "", fmt.Errorf("script location %q: storage type %q not supported", location, typ)
		}
		loc = rest
	}
	if !strings.HasPrefix(loc, "/") {
		return "", fmt.Errorf("script location %q: not an absolute path", location)
	}
	return loc, nil
}

// ImapsieveExpungeDiscarded is imapsieve_expunge_discarded: discarded
// messages are expunged, not only flagged \Deleted.
func (c *Config) ImapsieveExpungeDiscarded() bool {
	switch strings.ToLower(strings.TrimSpace(c.Raw["imapsieve_expunge_discarded"])) {
	case "yes", "y", "1", "true":
		return true
	}
	return false
}
