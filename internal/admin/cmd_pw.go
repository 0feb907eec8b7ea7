package admin

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"

	"roost/internal/pwscheme"
)

// pwDefaultScheme is doveadm pw's default in Dovecot 2.3.
const pwDefaultScheme = "CRYPT"

// runPW is doveadm pw: generate a hash (-s scheme, -p password or two
// prompts, -r rounds, -u user, -V verify it), test one (-t hash), or list
// the schemes (-l). Exit 75 for an unknown scheme or a failed check, as
// doveadm.
func runPW(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "pw")
	list := fs.Bool("l", false, "list the known schemes")
	scheme := fs.String("s", pwDefaultScheme, "password `scheme`")
	password := fs.String("p", "", "the `password` (prompted for when absent)")
	rounds := fs.Int("r", 0, "`rounds` (cost) for schemes that have them")
	user := fs.String("u", "", "`user` for schemes that mix it in (DIGEST-MD5)")
	test := fs.String("t", "", "test the password against this `hash`")
	verify := fs.Bool("V", false, "verify the generated hash")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if *list {
		for _, n := range pwscheme.List() {
			fmt.Fprint(env.Stdout, n+" ")
		}
		fmt.Fprintln(env.Stdout)
		return exitOK
	}
	pw := *password
	if !fsSet(fs, "p") {
		var ok bool
		if pw, ok = promptPassword(env, *test == ""); !ok {
			return exitTempFail
		}
	}
	if *test != "" {
		return pwTest(env, *test, pw, *user)
	}
	h, err := pwscheme.Generate(strings.ToUpper(*scheme), pw, *user, *rounds)
	if err != nil {
		fmt.Fprintf(env.Stderr, "Fatal: Unknown scheme: %s\n", *scheme)
		return exitTempFail
	}
	if *verify {
		if ok, err := pwscheme.Verify(pw, h, *user); !ok || err != nil {
			fmt.Fprintf(env.Stderr, "Fatal: reverse password verification check failed: %s\n", mismatchText(err))
			return exitTempFail
		}
		h += " (verified)"
	}
	fmt.Fprintln(env.Stdout, h)
	return exitOK
}

func pwTest(env *Env, hash, pw, user string) int {
	ok, err := pwscheme.Verify(pw, hash, user)
	if !ok || err != nil {
		fmt.Fprintf(env.Stderr, "Fatal: reverse password verification check failed: %s\n", mismatchText(err))
		return exitTempFail
	}
	fmt.Fprintln(env.Stdout, hash+" (verified)")
	return exitOK
}

func mismatchText(err error) string {
	if err == nil {
		return "Password mismatch"
	}
	return err.Error()
}

// promptPassword reads the password from standard input, twice when
// generating, as doveadm pw's "Enter new password:" prompts.
func promptPassword(env *Env, twice bool) (string, bool) {
	r := bufio.NewReader(env.Stdin)
	fmt.Fprint(env.Stderr, "Enter new password: ")
	a, err := r.ReadString('\n')
	if err != nil && a == "" {
		fmt.Fprintln(env.Stderr, "\nFatal: Empty password")
		return "", false
	}
	a = strings.TrimRight(a, "\r\n")
	if !twice {
		return a, true
	}
	fmt.Fprint(env.Stderr, "\nRetype new password: ")
	b, _ := r.ReadString('\n')
	fmt.Fprintln(env.Stderr)
	if strings.TrimRight(b, "\r\n") != a {
		fmt.Fprintln(env.Stderr, "Error: Passwords don't match!")
		return "", false
	}
	return a, true
}

// fsSet reports whether flag name was given on the command line.
func fsSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
