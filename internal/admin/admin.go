// Package admin is roost's command line: one table of commands (the
// daemon, doveconf's and doveadm's commands), dispatch by subcommand or by
// the name the binary was invoked as (dovecot, doveconf, doveadm), and the
// help text generated from the table.
package admin

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Exit codes, as sysexits.h and doveadm use them.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 64 // EX_USAGE
	exitNoUser   = 67 // EX_NOUSER
	exitSoftware = 70 // EX_SOFTWARE
	exitConfig   = 78 // EX_CONFIG
	exitTempFail = 75 // EX_TEMPFAIL
)

// DefaultConfigPath is where roost looks for its configuration when no -c
// is given. Without it, `roost serve` runs the quickstart instance.
const DefaultConfigPath = "/etc/roost/roost.conf"

// dovecotConfigPath is the default when invoked under Dovecot's names.
const dovecotConfigPath = "/etc/dovecot/dovecot.conf"

// Env is what a command runs with.
type Env struct {
	Prog   string // how the user invoked us, for messages ("roost", "doveconf")
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// DefaultConfig is the config path used when -c is absent.
	DefaultConfig string
}

// Command is one entry of the command table.
type Command struct {
	Name  string // "serve", "config", "mailbox list"
	Args  string // usage synopsis after the name
	Short string // one line for `roost help`
	Run   func(ctx context.Context, env *Env, args []string) int
}

// commands returns the command table.
func commands() []Command {
	return []Command{
		{Name: "serve", Args: "[-c FILE] [-F]", Short: "run the mail server (quickstart instance when no configuration exists)", Run: runServe},
		{Name: "config", Args: "[-n|-a] [-h] [-c FILE] [SETTING...]", Short: "print the configuration, as doveconf", Run: runConfig},
		{Name: "lda", Args: "[-c FILE] [-d USER] [-f SENDER] [-a ADDR] [-r ADDR] [-m MAILBOX] [-p FILE] [-e] [-k] [-o KEY=VALUE]...", Short: "deliver a message from standard input, as dovecot-lda", Run: runLDA},
		{Name: "sieve-test", Args: "[-f FROM] [-r RCPT] [-a ORIG] [-x EXTS] [-e] SCRIPT MAIL", Short: "dry-run a Sieve script on a message, as Pigeonhole's sieve-test", Run: runSieveTest},
		{Name: "sievec", Args: "[-x EXTS] SCRIPT [OUT]", Short: "check a Sieve script, as Pigeonhole's sievec (no binary is written)", Run: runSievec},
		{Name: "pw", Args: "[-l] [-s SCHEME] [-p PASSWORD] [-r ROUNDS] [-u USER] [-t HASH] [-V]", Short: "generate or test a password hash, as doveadm pw", Run: runPW},
		{Name: "auth test", Args: "[-c FILE] [-x KEY=VALUE]... USER [PASSWORD]", Short: "authenticate a user through the passdb chain, as doveadm auth test", Run: runAuthTest},
		{Name: "auth login", Args: "[-c FILE] [-x KEY=VALUE]... USER PASSWORD", Short: "authenticate and look up the userdb, as doveadm auth login", Run: runAuthLogin},
		{Name: "auth lookup", Args: "[-c FILE] [-x KEY=VALUE]... USER...", Short: "look a user up in the passdb chain without a password, as doveadm auth lookup", Run: runAuthLookup},
		{Name: "auth cache flush", Args: "[USER...]", Short: "empty the running server's auth cache, or drop the users' entries", Run: runAuthCacheFlush},
		{Name: "user", Args: "[-c FILE] [-x KEY=VALUE]... [-f FIELD] [-m] USER|MASK...", Short: "look users up in the userdb chain, or list them with a mask, as doveadm user", Run: runUser},
		{Name: "sieve list", Args: "[-c FILE] -u USER", Short: "list a user's Sieve scripts, the active one marked, as doveadm sieve list", Run: runSieveList},
		{Name: "sieve get", Args: "[-c FILE] -u USER [-a] NAME", Short: "print a user's Sieve script, as doveadm sieve get", Run: runSieveGet},
		{Name: "sieve put", Args: "[-c FILE] -u USER [-a] NAME < SCRIPT", Short: "store a Sieve script from standard input after checking it, as doveadm sieve put", Run: runSievePut},
		{Name: "sieve activate", Args: "[-c FILE] -u USER NAME", Short: "make a Sieve script the active one, as doveadm sieve activate", Run: runSieveActivate},
		{Name: "sieve deactivate", Args: "[-c FILE] -u USER", Short: "deactivate the user's Sieve script, as doveadm sieve deactivate", Run: runSieveDeactivate},
		{Name: "sieve delete", Args: "[-c FILE] -u USER [-a] NAME...", Short: "delete Sieve scripts (-a: even the active one), as doveadm sieve delete", Run: runSieveDelete},
		{Name: "sieve rename", Args: "[-c FILE] -u USER OLD NEW", Short: "rename a Sieve script, as doveadm sieve rename", Run: runSieveRename},
		{Name: "help", Args: "[COMMAND]", Short: "list commands or describe one", Run: runHelp},
	}
}

// Main runs the command named by argv and returns the process exit code.
func Main(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	env := &Env{Prog: "roost", Stdin: stdin, Stdout: stdout, Stderr: stderr, DefaultConfig: DefaultConfigPath}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	name := "roost"
	if len(argv) > 0 {
		name = filepath.Base(argv[0])
	}
	args := argv[1:]
	switch name {
	case "dovecot":
		env.Prog, env.DefaultConfig = name, dovecotConfigPath
		return runDovecot(ctx, env, args)
	case "doveconf":
		env.Prog, env.DefaultConfig = name, dovecotConfigPath
		return runConfig(ctx, env, args)
	case "doveadm":
		env.Prog, env.DefaultConfig = name, dovecotConfigPath
	case "dovecot-lda", "deliver":
		env.Prog, env.DefaultConfig = name, dovecotConfigPath
		return runLDA(ctx, env, args)
	}
	return dispatch(ctx, env, args)
}

func dispatch(ctx context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		usage(env.Stderr, env.Prog)
		return exitUsage
	}
	cmd, rest := lookup(args)
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "%s: Unknown command '%s'\n\n", env.Prog, strings.Join(args, " "))
		usage(env.Stderr, env.Prog)
		return exitUsage
	}
	return cmd.Run(ctx, env, rest)
}

// lookup finds the longest command name that prefixes args
// ("mailbox list" before "mailbox").
func lookup(args []string) (*Command, []string) {
	cmds := commands()
	var best *Command
	bestLen := 0
	for i := range cmds {
		words := strings.Fields(cmds[i].Name)
		if len(words) > len(args) || len(words) <= bestLen {
			continue
		}
		if strings.Join(args[:len(words)], " ") == cmds[i].Name {
			best, bestLen = &cmds[i], len(words)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, args[bestLen:]
}

func usage(w io.Writer, prog string) {
	fmt.Fprintf(w, "usage: %s <command> [<args>]\n\ncommands:\n", prog)
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-40s %s\n", c.Name+" "+c.Args, c.Short)
	}
}

func runHelp(_ context.Context, env *Env, args []string) int {
	if len(args) == 0 {
		usage(env.Stdout, env.Prog)
		return exitOK
	}
	cmd, _ := lookup(args)
	if cmd == nil {
		fmt.Fprintf(env.Stderr, "%s: Unknown command '%s'\n", env.Prog, strings.Join(args, " "))
		return exitUsage
	}
	fmt.Fprintf(env.Stdout, "usage: %s %s %s\n\n%s\n", env.Prog, cmd.Name, cmd.Args, cmd.Short)
	return exitOK
}

// newFlags returns a FlagSet that reports errors on env.Stderr.
func newFlags(env *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(env.Prog+" "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}
