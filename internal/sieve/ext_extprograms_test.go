package sieve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// extprogramsBin holds this repository's own versions of the programs
// Pigeonhole's plugins/extprograms tests call (the shared copy of the
// suite does not include its bin/ directory).
const extprogramsBin = "testdata/extprograms/bin"

// suiteConfigValue maps a test_config_set value for the test suite: the
// extprograms bin directories ("${tst.path}/../bin") point at
// extprogramsBin, and the run gets a home directory for HOME.
func suiteConfigValue(r *runner, name, value string) string {
	if strings.HasPrefix(name, "sieve_") && strings.HasSuffix(name, "_bin_dir") && strings.HasSuffix(value, "../bin") {
		abs, err := filepath.Abs(extprogramsBin)
		if err == nil {
			value = abs
		}
		if r.env.Home == "" {
			r.env.Home = filepath.Dir(abs)
		}
	}
	return value
}

func extEnv(t *testing.T, cfg map[string]string, msg string) *Env {
	t.Helper()
	abs, err := filepath.Abs(extprogramsBin)
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]string{"sieve_pipe_bin_dir": abs, "sieve_filter_bin_dir": abs, "sieve_execute_bin_dir": abs}
	for k, v := range cfg {
		c[k] = v
	}
	return &Env{Message: ParseMessage([]byte(msg)), Config: c, User: "alice@example.com", Home: t.TempDir(),
		Envelope: Envelope{From: "bob@example.net", To: "alice@example.com", OrigTo: "all@example.com"}}
}

func compileExt(t *testing.T, src string) *Program {
	t.Helper()
	exts := append(append([]string(nil), DefaultExtensions...), append(extprogramsCapabilities, "imapsieve")...)
	p, err := Compile("test", []byte(src), Options{Extensions: exts})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return p
}

const extMsg = "From: bob@example.net\r\nTo: alice@example.com\r\nSubject: Hello\r\n\r\nBody.\r\n"

// pipeRecorder is a program that appends its input to a file.
func pipeRecorder(t *testing.T) (dir, out string) {
	t.Helper()
	dir = t.TempDir()
	out = filepath.Join(dir, "out")
	script := "#!/bin/sh\nprintf '%s|%s|%s\\n' \"$1\" \"$USER\" \"$RECIPIENT\" >>" + out + ".args\nexec cat >>" + out + "\n"
	if err := os.WriteFile(filepath.Join(dir, "record"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, out
}

func TestPipeAction(t *testing.T) {
	t.Parallel()
	dir, out := pipeRecorder(t)
	env := extEnv(t, map[string]string{"sieve_pipe_bin_dir": dir}, extMsg)
	res := Run(context.Background(), compileExt(t, `require ["vnd.dovecot.pipe", "copy"]; pipe :copy "record" ["spam"];`), env)
	if res.Err != nil || !res.ImplicitKeep || len(res.Actions) != 1 || res.Actions[0].Kind != ActPipe {
		t.Fatalf("result: %+v", res)
	}
	if err := res.Execute(context.Background(), env, &Executor{Deliverer: NewMemStore()}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil || string(got) != extMsg {
		t.Fatalf("program got %q, %v; want the message", got, err)
	}
	args, _ := os.ReadFile(out + ".args")
	if string(args) != "spam|alice@example.com|alice@example.com\n" {
		t.Errorf("args/env = %q", args)
	}
}

func TestPipeCancelsKeepAndFails(t *testing.T) {
	t.Parallel()
	env := extEnv(t, nil, extMsg)
	res := Run(context.Background(), compileExt(t, `require "vnd.dovecot.pipe"; pipe "missing";`), env)
	if res.Err != nil || res.ImplicitKeep {
		t.Fatalf("pipe without :copy must cancel the implicit keep: %+v", res)
	}
	err := res.Execute(context.Background(), env, &Executor{Deliverer: NewMemStore()})
	if err == nil || !strings.Contains(err.Error(), "failed to pipe message to program `missing'") {
		t.Fatalf("err = %v", err)
	}
	res = Run(context.Background(), compileExt(t, `require "vnd.dovecot.pipe"; pipe :try "missing";`), env)
	if err := res.Execute(context.Background(), env, &Executor{Deliverer: NewMemStore()}); err != nil || len(res.Warnings) != 1 {
		t.Fatalf(":try: err = %v, warnings %q", err, res.Warnings)
	}
}

func TestPipeTimeoutKillsGroup(t *testing.T) {
	t.Parallel()
	env := extEnv(t, map[string]string{"sieve_pipe_exec_timeout": "1s"}, extMsg)
	res := Run(context.Background(), compileExt(t, `require "vnd.dovecot.pipe"; pipe "sleep10";`), env)
	start := time.Now()
	err := res.Execute(context.Background(), env, &Executor{Deliverer: NewMemStore()})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 8*time.Second { // bound, not a timing assertion: the child must not outlive the kill
		t.Fatalf("pipe waited %v for a killed program", d)
	}
}

func TestExecuteOutputAndFilter(t *testing.T) {
	t.Parallel()
	env := extEnv(t, nil, extMsg)
	src := `require ["vnd.dovecot.execute", "vnd.dovecot.filter", "variables", "fileinto"];
execute :input "X" :output "o" "frame" ["A "];
if not string "${o}" "FRAMED A { X }" { fileinto "wrong-output"; }
execute :output "h" "env" "HOME";
if string "${h}" "" { fileinto "no-home"; }
if execute "nonexistent" { fileinto "wrong-test"; }
filter "addheader" ["X-Filtered", "yes"];
if not header "x-filtered" "yes" { fileinto "not-filtered"; }
fileinto "Done";`
	res := Run(context.Background(), compileExt(t, src), env)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if len(res.Actions) != 1 || res.Actions[0].Mailbox != "Done" {
		t.Fatalf("actions: %+v", res.Actions[0])
	}
	if m := string(res.Actions[0].Message); !strings.HasPrefix(m, "X-Filtered: yes\r\n") {
		t.Errorf("stored message = %q", m)
	}
}

func TestProgramNameChecks(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"../x", "a/b", "x\x01", "x\u2028", "", ".."} {
		if validProgramName(name) {
			t.Errorf("%q accepted", name)
		}
	}
	for _, name := range []string{"sa-learn-spam.sh", "report_ham", "x.y"} {
		if !validProgramName(name) {
			t.Errorf("%q rejected", name)
		}
	}
	if validProgramArg("a\nb") || !validProgramArg("a\tb") {
		t.Error("argument check")
	}
	_, err := Compile("t", []byte(`require "vnd.dovecot.pipe"; pipe "../x";`), Options{Extensions: extprogramsCapabilities})
	if err == nil {
		t.Error("../x compiled")
	}
}

func TestExtprogramsNotDefault(t *testing.T) {
	t.Parallel()
	if _, err := Compile("t", []byte(`require "vnd.dovecot.pipe";`), Options{}); err == nil {
		t.Error("vnd.dovecot.pipe is enabled by default; Pigeonhole requires sieve_extensions or sieve_global_extensions")
	}
}
