package sieve

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
)

func imapsieveEnv(t *testing.T, flags ...string) *Env {
	t.Helper()
	env := extEnv(t, nil, extMsg)
	env.Environment = ImapsieveEvent{User: "alice", Email: "alice@example.com", Cause: "COPY", Mailbox: "Junk"}.Environment()
	env.Flags = flags
	return env
}

func TestImapsieveRunPipeKeeps(t *testing.T) {
	t.Parallel()
	dir, out := pipeRecorder(t)
	env := imapsieveEnv(t, `\Seen`)
	env.Config["sieve_pipe_bin_dir"] = dir
	prog := compileExt(t, `require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];
if environment :matches "imap.user" "*" { set "username" "${1}"; }
if environment :is "imap.cause" "COPY" { pipe :copy "record" ["${username}"]; }`)
	o := ImapsieveRun(context.Background(), []*Program{prog}, env, &Executor{})
	if !o.Keep || o.FlagsChanged || len(o.Errors) != 0 || len(o.Stores) != 0 {
		t.Fatalf("outcome %+v", o)
	}
	got, _ := os.ReadFile(out)
	args, _ := os.ReadFile(out + ".args")
	if string(got) != extMsg || !strings.HasPrefix(string(args), "alice|") {
		t.Fatalf("program got %q args %q", got, args)
	}
}

func TestImapsieveRunFlagsStoresDiscard(t *testing.T) {
	t.Parallel()
	env := imapsieveEnv(t, `\Seen`)
	flagsProg := compileExt(t, `require ["imap4flags", "fileinto"]; addflag "$Junk"; fileinto "Archive"; fileinto "Junk";`)
	o := ImapsieveRun(context.Background(), []*Program{flagsProg}, env, &Executor{})
	if !o.Keep || !o.FlagsChanged || !sameFlags(o.Flags, []string{`\Seen`, "$Junk"}) || len(o.Stores) != 1 || o.Stores[0].Mailbox != "Archive" {
		t.Fatalf("outcome %+v", o)
	}
	discard := compileExt(t, `discard;`)
	never := compileExt(t, `require "fileinto"; fileinto "Never";`)
	o = ImapsieveRun(context.Background(), []*Program{discard, never}, env, &Executor{})
	if o.Keep || len(o.Stores) != 0 {
		t.Fatalf("discard: later scripts must not run once the keep is cancelled: %+v", o)
	}
}

func TestImapsieveScriptPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"file:/s/report-spam.sieve": "/s/report-spam.sieve", "/s/x.sieve": "/s/x.sieve", "file:/s/x.sieve;name=y": "/s/x.sieve",
	} {
		if got, err := ImapsieveScriptPath(in); err != nil || got != want {
			t.Errorf("%s: %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"dict:proxy::sieve", "relative.sieve", "file:x"} {
		if _, err := ImapsieveScriptPath(in); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

func TestImapsieveRunFailedPipeKeeps(t *testing.T) {
	t.Parallel()
	env := imapsieveEnv(t)
	prog := compileExt(t, `require ["vnd.dovecot.pipe", "imap4flags"]; addflag "x"; pipe "missing";`)
	o := ImapsieveRun(context.Background(), []*Program{prog}, env, &Executor{})
	if !o.Keep || len(o.Errors) != 1 || o.FlagsChanged {
		t.Fatalf("a failed pipe must keep the message: %+v", o)
	}
}

func TestImapsieveRunEdits(t *testing.T) {
	t.Parallel()
	env := imapsieveEnv(t)
	add := compileExt(t, `require "vnd.dovecot.filter"; filter "addheader" ["X-A", "1"];`)
	check := compileExt(t, `require ["imap4flags"]; if header "x-a" "1" { addflag "seen-edit"; }`)
	o := ImapsieveRun(context.Background(), []*Program{add, check}, env, &Executor{})
	if !o.Keep || !strings.HasPrefix(string(o.Message), "X-A: 1\r\n") || !slices.Contains(o.Flags, "seen-edit") {
		t.Fatalf("outcome %+v, message %q", o, o.Message)
	}
}
