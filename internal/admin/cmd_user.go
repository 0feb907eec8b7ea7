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
// matching a mask with * or ? (userdb iteration). As doveadm 2.3 without
// -u, uid, gid, home and mail are always shown, from mail_uid, mail_gid,
// mail_home and mail_location when the userdb gives none (-m, which asked
// for the mail location only, is accepted). Exit 67 for an unknown user.
func runUser(ctx context.Context, env *Env, args []string) int {
	f := newAuthFlags(env, "user")
	field := f.fs.String("f", "", "print only this `field`")
	f.fs.Bool("m", false, "accepted: the mail location in effect is always shown")
	if err := f.fs.Parse(args); err != nil || f.fs.NArg() < 1 {
		return exitUsage
	}
	a, code := f.chain(env)
	if a == nil {
		return code
	}
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
		if *field != "" {
			fmt.Fprintln(env.Stdout, f.withDefaults(res.Fields)[*field])
			continue
		}
		f.printUser(env, user, res)
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

// userFields are what doveadm user prints first, in this order, with the
// configuration's value when the userdb has none.
var userFields = []string{"uid", "gid", "home", "mail"}

// withDefaults returns fields with uid, gid, home and mail filled in from
// mail_uid, mail_gid, mail_home and mail_location where missing.
func (f *authFlags) withDefaults(fields auth.Fields) auth.Fields {
	out := fields.Clone()
	if out == nil {
		out = auth.Fields{}
	}
	for i, def := range []string{f.mailUID, f.mailGID, f.mailHome, f.mailLocation} {
		if _, ok := out[userFields[i]]; !ok {
			out[userFields[i]] = def
		}
	}
	return out
}

// printUser prints one userdb answer as doveadm 2.3 does (mail
// storage-service lookup): "user" when the lookup renamed the user, uid,
// gid, home and mail with the configuration's defaults, then the other
// userdb fields in database order. A userdb answer without any field
// ends with an empty line of one tab: doveadm splits the auth server's
// "USER id name<TAB>" reply into one empty field and prints it.
func (f *authFlags) printUser(env *Env, user string, res auth.UserResult) {
	if res.User != "" && res.User != user {
		fmt.Fprintf(env.Stdout, "user\t%s\n", res.User)
	}
	fields := f.withDefaults(res.Fields)
	for _, k := range userFields {
		fmt.Fprintf(env.Stdout, "%s\t%s\n", k, fields[k])
	}
	for _, k := range otherUserFields(res) {
		fmt.Fprintf(env.Stdout, "%s\t%s\n", k, fields[k])
	}
	if len(res.Fields) == 0 {
		fmt.Fprintln(env.Stdout, "\t")
	}
}

// otherUserFields are the userdb's keys other than uid, gid, home and
// mail: in database order where the chain recorded it, the rest sorted.
func otherUserFields(res auth.UserResult) []string {
	var out, rest []string
	seen := map[string]bool{"uid": true, "gid": true, "home": true, "mail": true}
	for _, k := range res.Order {
		if _, ok := res.Fields[k]; ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for k := range res.Fields {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// userFieldOrder puts uid, gid, home and mail first, as userdbs return
// them, then the rest sorted.
func userFieldOrder(f auth.Fields) []string {
	var out []string
	for _, k := range userFields {
		if _, ok := f[k]; ok {
			out = append(out, k)
		}
	}
	return append(out, otherUserFields(auth.UserResult{Fields: f})...)
}
