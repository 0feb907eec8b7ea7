package admin

import (
	"context"
	"fmt"
	"os"
	"strings"

	"roost/internal/server"
)

// EX_NOPERM: dovecot-lda -e reports a permanent rejection with it.
const exitNoPerm = 77

// runLDA is dovecot-lda: deliver the message on standard input (or -p
// FILE) to one user. Exit codes: 0 delivered, or refused permanently and
// a rejection sent to the sender through sendmail_path (Dovecot's DSN;
// none for a null sender or an Auto-Submitted message); 67 (EX_NOUSER)
// unknown user; 75 (EX_TEMPFAIL) any temporary failure, including
// configuration and userdb errors and a rejection that could not be sent,
// so the MTA retries; 77 (EX_NOPERM) a permanent refusal with -e (the
// reason on stderr, the MTA bounces), including a Sieve ereject (a Sieve
// reject sends its rejection and exits 0 with -e too, as Debian's
// dovecot-lda does); 64 (EX_USAGE) bad flags.
func runLDA(ctx context.Context, env *Env, args []string) int {
	fs := newFlags(env, "lda")
	var overrides multiFlag
	cfgPath := fs.String("c", env.DefaultConfig, "configuration `file`")
	user := fs.String("d", "", "destination `user` (default: the invoking user)")
	sender := fs.String("f", "", "envelope `sender`")
	orig := fs.String("a", "", "original envelope `recipient`")
	final := fs.String("r", "", "final envelope `recipient`")
	mailbox := fs.String("m", "", "destination `mailbox` (default INBOX)")
	path := fs.String("p", "", "read the message from `file` instead of standard input")
	stderrRejection := fs.Bool("e", false, "report rejections on stderr with an exit code instead of a bounce")
	fs.Bool("k", false, "keep the environment (accepted for compatibility)")
	fs.Var(&overrides, "o", "override a `setting=value` (section/setting=value for sections)")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.Stderr, "%s: Fatal: Unknown argument: %s\n", env.Prog, fs.Arg(0))
		return exitUsage
	}
	in := env.Stdin
	if *path != "" {
		f, err := os.Open(*path)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: Fatal: Can't open delivery mail: %v\n", env.Prog, err)
			return exitTempFail
		}
		defer f.Close()
		in = f
	}
	res, err := server.LDA(ctx, server.LDARequest{ConfigPath: *cfgPath, Overrides: overrides, User: *user,
		Sender: *sender, Mailbox: *mailbox, Original: *orig, Final: *final, Message: in, Stderr: env.Stderr,
		StderrRejection: *stderrRejection})
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: Fatal: %v\n", env.Prog, err)
		// Configuration and userdb errors included, as Dovecot: the MTA
		// keeps the mail and retries.
		return exitTempFail
	}
	return ldaExit(env, res.Code, res.Enhanced, res.Text)
}

func ldaExit(env *Env, code int, enhanced, text string) int {
	switch {
	case code >= 200 && code < 300:
		return exitOK
	case code >= 400 && code < 500:
		fmt.Fprintf(env.Stderr, "%s: %s %s\n", env.Prog, enhanced, text)
		return exitTempFail
	case enhanced == "5.1.1":
		fmt.Fprintf(env.Stderr, "%s: %s\n", env.Prog, text)
		return exitNoUser
	}
	// -e: the reason alone, as dovecot-lda prints it; the MTA bounces.
	fmt.Fprintln(env.Stderr, text)
	return exitNoPerm
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
