package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"roost/internal/sieve"
)

// exitSieveFatal is the status Pigeonhole's tools exit with on a fatal
// error (FATAL_DEFAULT).
const exitSieveFatal = 89

// sieveFlags are the flags Pigeonhole's sieve-test and sievec take.
type sieveFlags struct {
	from, rcpt, orig, exts, config, mailbox string
	execute                                 bool
	settings                                []string
}

func parseSieveFlags(env *Env, name string, args []string) (*sieveFlags, []string, error) {
	fs := newFlags(env, name)
	f := &sieveFlags{}
	fs.StringVar(&f.from, "f", "", "envelope sender")
	fs.StringVar(&f.rcpt, "r", "", "envelope recipient")
	fs.StringVar(&f.orig, "a", "", "original envelope recipient")
	fs.StringVar(&f.exts, "x", "", "extensions (sieve_extensions syntax: \"+editheader -regex\")")
	fs.StringVar(&f.config, "c", "", "configuration file (accepted, not read)")
	fs.StringVar(&f.mailbox, "m", "INBOX", "default mailbox")
	fs.BoolVar(&f.execute, "e", false, "execute (roost: still a dry run, nothing is stored or sent)")
	fs.Func("o", "setting=value override", func(s string) error { f.settings = append(f.settings, s); return nil })
	for _, b := range []string{"C", "D"} {
		fs.Bool(b, false, "accepted for compatibility")
	}
	fs.String("d", "", "dump file (accepted, ignored)")
	fs.String("t", "", "trace file (accepted, ignored)")
	fs.String("T", "", "trace option (accepted, ignored)")
	fs.String("P", "", "plugin (accepted, ignored)")
	fs.String("l", "", "mail location (accepted, ignored)")
	fs.String("s", "", "extra script (accepted, ignored)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	return f, fs.Args(), nil
}

// extensions are the defaults with -x applied, plus vnd.dovecot.debug,
// which Pigeonhole's tools always enable.
func (f *sieveFlags) extensions() []string {
	return append(sieve.ExtensionList(f.exts), "vnd.dovecot.debug")
}

func (f *sieveFlags) configMap() map[string]string {
	m := map[string]string{}
	for _, s := range f.settings {
		k, v, _ := strings.Cut(s, "=")
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if f.exts != "" {
		m["sieve_extensions"] = f.exts
	}
	return m
}

// compileScript compiles a script file, printing errors as Pigeonhole does.
func compileScript(env *Env, path string, exts []string) (*sieve.Program, bool) {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: Fatal: failed to open sieve script: %v\n", env.Prog, err)
		return nil, false
	}
	name := strings.TrimSuffix(filepath.Base(path), ".sieve")
	prog, err := sieve.Compile(name, src, sieve.Options{Extensions: exts})
	var ce *sieve.CompileError
	if errors.As(err, &ce) {
		fmt.Fprintln(env.Stderr, ce.Error())
		phase := ce.Phase
		if phase == "" {
			phase = "validation"
		}
		fmt.Fprintf(env.Stderr, "%s: error: %s failed.\n", name, phase)
		fmt.Fprintf(env.Stderr, "%s: Fatal: failed to compile sieve script\n", env.Prog)
		return nil, false
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: Fatal: %v\n", env.Prog, err)
		return nil, false
	}
	return prog, true
}

func runSievec(_ context.Context, env *Env, args []string) int {
	f, rest, err := parseSieveFlags(env, "sievec", args)
	if err != nil || len(rest) < 1 || len(rest) > 2 {
		fmt.Fprintf(env.Stderr, "Usage: sievec [-d] [-c <config-file>] [-x <extensions>] <script-file> [<out-file>]\n")
		return exitUsage
	}
	if _, ok := compileScript(env, rest[0], f.extensions()); !ok {
		return exitSieveFatal
	}
	return exitOK
}

func runSieveTest(ctx context.Context, env *Env, args []string) int {
	f, rest, err := parseSieveFlags(env, "sieve-test", args)
	if err != nil || len(rest) != 2 {
		fmt.Fprintf(env.Stderr, "Usage: sieve-test [-a <orig-recipient-address>] [-c <config-file>] [-e] [-f <envelope-sender>]\n"+
			"                  [-m <default-mailbox>] [-r <recipient-address>] [-x <extensions>] <script-file> <mail-file>\n")
		return exitUsage
	}
	prog, ok := compileScript(env, rest[0], f.extensions())
	if !ok {
		return exitSieveFatal
	}
	data, err := os.ReadFile(rest[1])
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: Fatal: failed to read mail file: %v\n", env.Prog, err)
		return exitSieveFatal
	}
	senv := &sieve.Env{Message: sieve.ParseMessage(data), Config: f.configMap(),
		Envelope: sieve.Envelope{From: f.from, To: f.rcpt, OrigTo: f.orig}}
	if senv.Envelope.To == "" {
		senv.Envelope.To = "recipient@example.com"
	}
	if senv.Envelope.From == "" {
		senv.Envelope.From = "sender@example.com"
	}
	res := sieve.Run(ctx, prog, senv)
	for _, d := range res.Debug {
		fmt.Fprintf(env.Stderr, "info: DEBUG: %s.\n", d)
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(env.Stderr, "error: %s.\n", w)
	}
	if res.Err != nil {
		fmt.Fprintln(env.Stderr, res.Err.Error())
		fmt.Fprintf(env.Stderr, "%s: Info: final result: failed; resolved with successful implicit keep\n", env.Prog)
		return exitOK
	}
	var b strings.Builder
	res.Print(&b)
	fmt.Fprint(env.Stdout, b.String())
	fmt.Fprintf(env.Stderr, "%s: Info: final result: success\n", env.Prog)
	return exitOK
}
