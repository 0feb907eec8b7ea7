package admin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"roost/internal/delivery"
	"roost/internal/server"
	"roost/internal/sieve"
	"roost/internal/sievestore"
)

// storeFlags are the flags every `roost sieve` command takes: -c and -u.
type storeFlags struct {
	fs      *flag.FlagSet
	cfgPath *string
	user    *string
}

func newStoreFlags(env *Env, name string) *storeFlags {
	f := &storeFlags{fs: newFlags(env, name)}
	f.cfgPath = f.fs.String("c", env.DefaultConfig, "configuration `file`")
	f.user = f.fs.String("u", "", "the `user` whose scripts are managed")
	return f
}

// open parses args (wanting nargs positional arguments, -1 for any) and
// opens the user's storage; a non-zero code means stop.
func (f *storeFlags) open(ctx context.Context, env *Env, args []string, nargs int) (*sievestore.Store, *sieve.Config, int) {
	if err := f.fs.Parse(args); err != nil || *f.user == "" || (nargs >= 0 && f.fs.NArg() != nargs) {
		fmt.Fprintf(env.Stderr, "%s: Fatal: Usage: %s -u USER\n", env.Prog, f.fs.Name())
		return nil, nil, exitUsage
	}
	st, cfg, err := server.UserSieveStore(ctx, *f.cfgPath, env.Stderr, *f.user)
	switch {
	case errors.Is(err, delivery.ErrUnknownUser):
		fmt.Fprintf(env.Stderr, "Error: User doesn't exist\n")
		return nil, nil, exitNoUser
	case err != nil:
		fmt.Fprintf(env.Stderr, "%s: Fatal: %v\n", env.Prog, err)
		return nil, nil, exitTempFail
	}
	return st, cfg, exitOK
}

// sieveError prints a storage error as doveadm does and returns its code.
func sieveError(env *Env, err error) int {
	fmt.Fprintf(env.Stderr, "Error: %v\n", err)
	switch sievestore.KindOf(err) {
	case sievestore.KindNotFound:
		return exitNotFound
	case sievestore.KindBadName, sievestore.KindActive, sievestore.KindExists:
		return exitFailure
	case 0:
		return exitTempFail
	}
	return exitNoPerm
}

// exitNotFound is doveadm's DOVEADM_EX_NOTFOUND.
const exitNotFound = 68

// runSieveList is doveadm sieve list: one script a line, "ACTIVE" after
// the active one.
func runSieveList(ctx context.Context, env *Env, args []string) int {
	f := newStoreFlags(env, "sieve list")
	st, _, code := f.open(ctx, env, args, 0)
	if st == nil {
		return code
	}
	list, err := st.List()
	if err != nil {
		return sieveError(env, err)
	}
	for _, s := range list {
		if s.Active {
			fmt.Fprintf(env.Stdout, "%s ACTIVE\n", s.Name)
		} else {
			fmt.Fprintf(env.Stdout, "%s\n", s.Name)
		}
	}
	return exitOK
}

// runSieveGet is doveadm sieve get: the script on standard output.
func runSieveGet(ctx context.Context, env *Env, args []string) int {
	f := newStoreFlags(env, "sieve get")
	f.fs.Bool("a", false, "get the active script (name ignored)")
	st, _, code := f.open(ctx, env, args, -1)
	if st == nil {
		return code
	}
	name := f.fs.Arg(0)
	if a := f.fs.Lookup("a"); a.Value.String() == "true" {
		name, _ = st.Active()
	}
	b, err := st.Get(name)
	if err != nil {
		return sieveError(env, err)
	}
	env.Stdout.Write(b)
	return exitOK
}

// runSievePut is doveadm sieve put: the script from standard input,
// checked by the compiler first; -a activates it.
func runSievePut(ctx context.Context, env *Env, args []string) int {
	f := newStoreFlags(env, "sieve put")
	activate := f.fs.Bool("a", false, "activate the script")
	st, cfg, code := f.open(ctx, env, args, 1)
	if st == nil {
		return code
	}
	name := f.fs.Arg(0)
	src, err := io.ReadAll(env.Stdin)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: Fatal: read script: %v\n", env.Prog, err)
		return exitTempFail
	}
	if _, err := sieve.Compile(name, src, sieve.Options{Config: cfg, Extensions: sievestore.Extensions(cfg, false)}); err != nil {
		fmt.Fprintf(env.Stderr, "Error: %v\n", err)
		return exitFailure
	}
	if err := st.Put(name, src); err != nil {
		return sieveError(env, err)
	}
	if *activate {
		if err := st.SetActive(name); err != nil {
			return sieveError(env, err)
		}
	}
	return exitOK
}

// runSieveActivate is doveadm sieve activate.
func runSieveActivate(ctx context.Context, env *Env, args []string) int {
	f := newStoreFlags(env, "sieve activate")
	st, _, code := f.open(ctx, env, args, 1)
	if st == nil {
		return code
	}
	if err := st.SetActive(f.fs.Arg(0)); err != nil {
		return sieveError(env, err)
	}
	return exitOK
}

// runSieveDeactivate is doveadm sieve deactivate.
func runSieveDeactivate(ctx context.Context, env *Env, args []string) int {
	f := newStoreFlags(env, "sieve deactivate")
	st, _, code := f.open(ctx, env, args, 0)
	if st == nil {
		return code
	}
	if err := st.SetActive(""); err != nil {
		return sieveError(env, err)
	}
	return exitOK
}

// runSieveDelete is doveadm sieve delete; -a allows deleting the active
// script (it is deactivated first).
func runSieveDelete(ctx context.Context, env *Env, args []string) int {
	f := newStoreFlags(env, "sieve delete")
	force := f.fs.Bool("a", false, "allow deleting the active script")
	st, _, code := f.open(ctx, env, args, -1)
	if st == nil {
		return code
	}
	ret := exitOK
	for _, name := range f.fs.Args() {
		if a, _ := st.Active(); *force && a == name {
			st.SetActive("")
		}
		if err := st.Delete(name); err != nil {
			ret = sieveError(env, err)
		}
	}
	return ret
}

// runSieveRename is doveadm sieve rename.
func runSieveRename(ctx context.Context, env *Env, args []string) int {
	f := newStoreFlags(env, "sieve rename")
	st, _, code := f.open(ctx, env, args, 2)
	if st == nil {
		return code
	}
	if err := st.Rename(f.fs.Arg(0), f.fs.Arg(1)); err != nil {
		return sieveError(env, err)
	}
	return exitOK
}
