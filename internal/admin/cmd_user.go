package admin

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"roost/internal/auth"
)

// runUser is doveadm user [-f field] [-m] USER|MASK...: the userdb answer
// as a "field value" table, one field's value with -f, and every user
// matching a mask with * or ? (userdb iteration). -m adds the effective
// mail location when the userdb gives none. Exit 67 for an unknown user.
func runUser(ctx context.Context, env *Env, args []string) int {
	f := newAuthFlags(env, "user")
	field := f.fs.String("f", "", "print only this `field`")
	mailEnv := f.fs.Bool("m", false, "also show the mail location in effect")
	if err := f.fs.Parse(args); err != nil || f.fs.NArg() < 1 {
		return exitUsage
	}
	a, code := f.chain(env)
	if a == nil {
		return code
	}
	s := f.mailLocation
	ret := exitOK
	for _, user := range f.fs.Args() {
		if strings.ContainsAny(user, "*?") {
			if err := iterateMask(ctx, env, a, user); err != nil {
				fmt.Fprintf(env.Stderr, "Error: User listing returned failure: %v\n", err)
				ret = exitTempFail
			}
			continue
		}
		res := a.LookupUser(ctx, f.request(user))
		if *field == "" {
			fmt.Fprintln(env.Stdout, "field\tvalue")
		}
		switch res.Status {
		case auth.OK:
		case auth.InternalFail:
			fmt.Fprintf(env.Stderr, "\nuserdb lookup failed for %s: Internal error\n", user)
			ret = exitTempFail
			continue
		default:
			fmt.Fprintf(env.Stderr, "\nuserdb lookup: user %s doesn't exist\n", user)
			ret = exitNoUser
			continue
		}
		fields := res.Fields.Clone()
		if *mailEnv && fields["mail"] == "" && s != "" {
			fields["mail"] = s
		}
		if *field != "" {
			fmt.Fprintln(env.Stdout, fields[*field])
			continue
		}
		for _, k := range userFieldOrder(fields) {
			fmt.Fprintf(env.Stdout, "%s\t%s\n", k, fields[k])
		}
	}
	return ret
}

func iterateMask(ctx context.Context, env *Env, a *auth.Auth, mask string) error {
	return a.IterateUsers(ctx, func(u string) error {
		if ok, _ := path.Match(mask, u); ok {
			fmt.Fprintln(env.Stdout, u)
		}
		return nil
	})
}

// userFieldOrder puts uid, gid, home and mail first, as userdbs return
// them, then the rest sorted.
func userFieldOrder(f auth.Fields) []string {
	var out, rest []string
	for _, k := range []string{"uid", "gid", "home", "mail"} {
		if _, ok := f[k]; ok {
			out = append(out, k)
		}
	}
	for k := range f {
		switch k {
		case "uid", "gid", "home", "mail":
		default:
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
