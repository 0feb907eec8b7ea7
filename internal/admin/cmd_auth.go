package admin

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"roost/internal/auth"
	"roost/internal/authproto"
	"roost/internal/server"
)

// authFlags are doveadm auth's flags: -a socket (accepted; roost reads
// the configuration and runs the chain itself) and -x key=value auth
// info (service, rip, lip, ...).
type authFlags struct {
	fs      *flag.FlagSet
	cfgPath *string
	info    multiFlag
	// mailLocation, mailUID, mailGID and mailHome are mail_location,
	// mail_uid, mail_gid and mail_home, known once chain has loaded.
	mailLocation, mailUID, mailGID, mailHome string
}

func newAuthFlags(env *Env, name string) *authFlags {
	f := &authFlags{fs: newFlags(env, name)}
	f.cfgPath = f.fs.String("c", env.DefaultConfig, "configuration `file`")
	f.fs.String("a", "", "auth socket `path` (ignored: the chain runs in this process)")
	f.fs.Var(&f.info, "x", "auth info `key=value` (service, rip, lip, ...)")
	return f
}

// chain loads the auth chain, or prints why not and returns an exit code.
func (f *authFlags) chain(env *Env) (*auth.Auth, int) {
	a, s, err := server.AuthChain(*f.cfgPath, env.Stderr, nil)
	if s != nil {
		f.mailLocation, f.mailUID, f.mailGID, f.mailHome = s.Mail.Location, s.Mail.UID, s.Mail.GID, s.Mail.Home
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: Fatal: %v\n", env.Prog, err)
		var ce *server.ConfigError
		if errors.As(err, &ce) {
			return nil, exitConfig
		}
		return nil, exitTempFail
	}
	return a, exitOK
}

// request builds the auth request of user with -x info; service defaults
// to doveadm.
func (f *authFlags) request(user string) *auth.Request {
	r := &auth.Request{Service: "doveadm", User: user}
	for _, kv := range f.info {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "service":
			r.Service = v
		case "rip", "lip":
			if ip, err := netip.ParseAddr(v); err == nil {
				ap := netip.AddrPortFrom(ip, 0)
				if k == "rip" {
					r.Remote = ap
				} else {
					r.Local = ap
				}
			}
		case "session":
			r.SessionID = v
		}
	}
	return r
}

// runAuthTest is doveadm auth test USER [PASSWORD].
func runAuthTest(ctx context.Context, env *Env, args []string) int {
	f := newAuthFlags(env, "auth test")
	if err := f.fs.Parse(args); err != nil || f.fs.NArg() < 1 || f.fs.NArg() > 2 {
		return exitUsage
	}
	user := f.fs.Arg(0)
	pw, ok := f.fs.Arg(1), f.fs.NArg() == 2
	if !ok {
		if pw, ok = promptPassword(&Env{Stdin: env.Stdin, Stderr: &prefixWriter{env.Stderr, "Password: "}}, false); !ok {
			return exitTempFail
		}
	}
	a, code := f.chain(env)
	if a == nil {
		return code
	}
	req := f.request(user)
	req.Mechanism = "PLAIN"
	res := a.VerifyPlain(ctx, req, pw)
	name := res.User
	if name == "" {
		name = user
	}
	if res.Status == auth.InternalFail {
		fmt.Fprintf(env.Stderr, "Error: passdb lookup failed: Internal error\n")
	}
	verdict := "auth succeeded"
	if res.Status != auth.OK {
		verdict = "auth failed"
	}
	fmt.Fprintf(env.Stdout, "passdb: %s %s\nextra fields:\n  user=%s\n", user, verdict, name)
	if res.Status != auth.OK {
		return exitNoPerm
	}
	for _, l := range fieldLines(res.Fields, res.Order, "=") {
		fmt.Fprintf(env.Stdout, "  %s\n", l)
	}
	return exitOK
}

// runAuthLogin is doveadm auth login: auth test, then the userdb lookup
// the login would do.
func runAuthLogin(ctx context.Context, env *Env, args []string) int {
	f := newAuthFlags(env, "auth login")
	if err := f.fs.Parse(args); err != nil || f.fs.NArg() != 2 {
		return exitUsage
	}
	a, code := f.chain(env)
	if a == nil {
		return code
	}
	user, pw := f.fs.Arg(0), f.fs.Arg(1)
	req := f.request(user)
	req.Mechanism = "PLAIN"
	res := a.VerifyPlain(ctx, req, pw)
	if res.Status != auth.OK {
		fmt.Fprintf(env.Stdout, "passdb: %s auth failed\nextra fields:\n  user=%s\n", user, user)
		return exitNoPerm
	}
	fmt.Fprintf(env.Stdout, "passdb: %s auth succeeded\nextra fields:\n  user=%s\n", user, res.User)
	for _, l := range fieldLines(res.Fields, res.Order, "=") {
		fmt.Fprintf(env.Stdout, "  %s\n", l)
	}
	ur := a.LookupUser(ctx, req)
	if ur.Status != auth.OK {
		fmt.Fprintf(env.Stderr, "userdb lookup: user %s doesn't exist\n", user)
		return exitNoUser
	}
	fmt.Fprintf(env.Stdout, "userdb extra fields:\n  %s\n", ur.User)
	for _, l := range userFieldOrder(ur.Fields) {
		fmt.Fprintf(env.Stdout, "  %s=%s\n", l, ur.Fields[l])
	}
	fmt.Fprintf(env.Stdout, "  auth_mech=PLAIN\n")
	return exitOK
}

// runAuthLookup is doveadm auth lookup USER...: the passdb without a
// password.
func runAuthLookup(ctx context.Context, env *Env, args []string) int {
	f := newAuthFlags(env, "auth lookup")
	if err := f.fs.Parse(args); err != nil || f.fs.NArg() < 1 {
		return exitUsage
	}
	a, code := f.chain(env)
	if a == nil {
		return code
	}
	ret := exitOK
	for _, user := range f.fs.Args() {
		res := a.LookupCredentials(ctx, f.request(user), "")
		switch res.Status {
		case auth.OK:
		case auth.InternalFail:
			fmt.Fprintf(env.Stderr, "passdb lookup failed for %s: Internal error\n", user)
			ret = exitTempFail
			continue
		default:
			fmt.Fprintf(env.Stderr, "passdb lookup: user %s doesn't exist\n", user)
			ret = exitNoUser
			continue
		}
		fmt.Fprintf(env.Stdout, "passdb: %s\n  %-10s: %s\n", user, "user", res.User)
		for _, l := range fieldLines(res.Fields, res.Order, ": ") {
			fmt.Fprintf(env.Stdout, "  %s\n", l)
		}
	}
	return ret
}

// fieldLines renders passdb extra fields as doveadm does: key=value (or
// "key      : value" for lookup), flags bare, in the order the passdbs
// returned them (checked against Debian's Dovecot 2.3 by
// e2e/doveadm_auth_test.go). Prefetched userdb_ fields are not shown.
func fieldLines(f auth.Fields, order []string, sep string) []string {
	var out []string
	for _, k := range f.Keys(order) {
		switch {
		case k == "user":
		case sep == "=" && f[k] == "":
			out = append(out, k)
		case sep == "=":
			out = append(out, k+"="+f[k])
		case f[k] == "":
			out = append(out, fmt.Sprintf("%-10s", k))
		default:
			out = append(out, fmt.Sprintf("%-10s: %s", k, f[k]))
		}
	}
	return out
}

// runAuthCacheFlush is doveadm auth cache flush [USER...]: it asks the
// running server over its auth-master socket (-a, default
// base_dir/auth-master) to drop every entry, or those of the users.
func runAuthCacheFlush(_ context.Context, env *Env, args []string) int {
	f := newAuthFlags(env, "auth cache flush")
	if err := f.fs.Parse(args); err != nil {
		return exitUsage
	}
	sock := f.fs.Lookup("a").Value.String()
	if sock == "" {
		p, err := server.AuthMasterPath(*f.cfgPath)
		if err != nil {
			fmt.Fprintf(env.Stderr, "%s: Fatal: %v\n", env.Prog, err)
			return exitConfig
		}
		sock = p
	}
	n, err := flushAuthCache(sock, f.fs.Args())
	if err != nil {
		fmt.Fprintf(env.Stderr, "Error: Cache flush failed: %v\n", err)
		return exitTempFail
	}
	fmt.Fprintf(env.Stdout, "%d cache entries flushed\n", n)
	return exitOK
}

// flushAuthCache speaks auth-master: VERSION, then CACHE-FLUSH 1 users,
// answered by OK 1 count.
func flushAuthCache(sock string, users []string) (int, error) {
	c, err := net.DialTimeout("unix", sock, 10*time.Second)
	if err != nil {
		return 0, fmt.Errorf("connect to auth-master: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	out := authproto.AppendLine(nil, "VERSION", strconv.Itoa(authproto.MasterMajor), strconv.Itoa(authproto.MasterMinor))
	out = authproto.AppendLine(out, "CACHE-FLUSH", append([]string{"1"}, users...)...)
	if _, err := c.Write(out); err != nil {
		return 0, fmt.Errorf("auth-master: %w", err)
	}
	r := bufio.NewReader(c)
	for {
		b, err := r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("auth-master: %w", err)
		}
		l, err := authproto.ParseLine(b[:len(b)-1])
		if err != nil {
			return 0, err
		}
		switch l.Cmd {
		case "VERSION", "SPID":
			continue
		case "OK":
			if len(l.Args) < 2 {
				return 0, fmt.Errorf("auth-master: short OK")
			}
			return strconv.Atoi(l.Args[1])
		}
		return 0, fmt.Errorf("auth-master answered %s", l.Cmd)
	}
}

// prefixWriter writes its prompt instead of the first prompt it is given.
type prefixWriter struct {
	w      interface{ Write([]byte) (int, error) }
	prompt string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if p.prompt != "" {
		p.w.Write([]byte(p.prompt))
		p.prompt = ""
	}
	return len(b), nil
}
