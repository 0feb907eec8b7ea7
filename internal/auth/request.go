package auth

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"roost/internal/pwscheme"
	"roost/internal/varexpand"
)

// Request is one authentication or lookup. Drivers read it; only auth
// changes it while a chain runs.
type Request struct {
	Service   string // "imap", "pop3", "lmtp", "doveadm", ...
	User      string // user to look up; the master user while a master passdb runs
	LoginUser string // requested login user (SASL authzid, user*master); empty otherwise
	Local     netip.AddrPort
	Remote    netip.AddrPort
	Secured   bool // TLS, or loopback/trusted network (Dovecot's %c)
	TLS       bool
	Mechanism string // SASL mechanism, "" for lookups without authentication
	SessionID string
	LocalName string // TLS SNI name

	origUser          string // as the client sent it (%{orig_user})
	masterUser        string // set after a successful master login
	normalized        bool   // auth_username_format applied
	skipPasswordCheck bool   // an earlier passdb already checked the password
	authenticated     bool   // the passdb chain succeeded
	prefetch          Fields // userdb_* fields from the passdb chain
	prefetchOrder     []string
	lookupPassdb      func(context.Context) PassResult
	pool              *pool  // slow password checks run here
	stored            string // hash the last VerifyPassword checked against
	storedScheme      string // its default scheme
}

// MasterUser returns the master user's name after a master login.
func (r *Request) MasterUser() string { return r.masterUser }

// Authenticated reports whether the passdb chain has succeeded for this
// request (static userdb skips its existence check then).
func (r *Request) Authenticated() bool { return r.authenticated }

// Prefetched returns the userdb_* fields (prefix removed) that the passdb
// chain returned for this request, and whether it returned any: the
// prefetch userdb answers from them.
func (r *Request) Prefetched() (Fields, bool) {
	return r.prefetch.Clone(), r.authenticated && len(r.prefetch) > 0
}

// SkipPasswordCheck reports whether an earlier passdb (or a master login
// with pass=yes) already checked the password: drivers that check it
// themselves, such as LDAP authentication binds, then only look up.
func (r *Request) SkipPasswordCheck() bool { return r.skipPasswordCheck }

// LookupPassdb runs the passdb chain in lookup mode for r.User, for
// userdbs that must check that a user exists (static with
// allow_all_users=no). It returns InternalFail when called outside
// Auth.LookupUser.
func (r *Request) LookupPassdb(ctx context.Context) PassResult {
	if r.lookupPassdb == nil {
		return PassResult{Status: InternalFail, Err: errNoChain}
	}
	return r.lookupPassdb(ctx)
}

// Vars returns the request's %-variables for templates (user, username,
// domain, service, rip, lip, rport, lport, secured, mech, session,
// local_name, orig_user, master_user, login_user).
func (r *Request) Vars() varexpand.Map {
	name, domain, _ := strings.Cut(r.User, "@")
	orig := r.origUser
	if orig == "" {
		orig = r.User
	}
	m := varexpand.Map{
		"user": r.User, "username": name, "domain": domain,
		"service": r.Service, "mech": r.Mechanism, "session": r.SessionID,
		"local_name": r.LocalName, "orig_user": orig,
		"master_user": r.masterUser, "login_user": r.LoginUser,
	}
	on, od, _ := strings.Cut(orig, "@")
	m["orig_username"], m["orig_domain"] = on, od
	if r.Secured {
		m["secured"] = "secured"
	} else {
		m["secured"] = ""
	}
	addIP(m, "rip", "rport", r.Remote)
	addIP(m, "lip", "lport", r.Local)
	return m
}

func addIP(m varexpand.Map, ip, port string, ap netip.AddrPort) {
	if !ap.IsValid() {
		m[ip], m[port] = "", ""
		return
	}
	m[ip] = ap.Addr().Unmap().String()
	m[port] = strconv.Itoa(int(ap.Port()))
}

// Expand expands a template with the request's variables. Unknown
// variables are left as written; the error names the first.
func (r *Request) Expand(template string) (string, error) {
	return varexpand.Expand(template, r.Vars())
}

// VerifyPassword is the password check passdb drivers call after finding
// the user's stored password: it honours an earlier passdb's check
// (continue rules, master pass=yes) and the nopassword field, and maps
// scheme problems to SchemeNotAvailable or InternalFail. Slow schemes
// (pwscheme.Slow) are checked in the auth worker pool, so they queue
// behind each other and never in front of cheap checks.
func (r *Request) VerifyPassword(ctx context.Context, password, stored, defaultScheme string, fields Fields) (Status, error) {
	if r.skipPasswordCheck {
		return OK, nil
	}
	if fields.Has("nopassword") {
		return OK, nil
	}
	if stored == "" {
		return PasswordMismatch, errors.New("empty password in passdb")
	}
	r.stored, r.storedScheme = stored, defaultScheme
	var ok bool
	var err error
	check := func() { ok, err = pwscheme.VerifyDefault(password, stored, r.User, defaultScheme) }
	if r.pool != nil && pwscheme.Slow(stored, defaultScheme) {
		if perr := r.pool.run(ctx, check); perr != nil {
			return InternalFail, fmt.Errorf("waiting for an auth worker: %w", perr)
		}
	} else {
		check()
	}
	switch {
	case err != nil && isUnknownScheme(err):
		return SchemeNotAvailable, err
	case err != nil:
		return InternalFail, err
	case ok:
		return OK, nil
	}
	return PasswordMismatch, nil
}

// Fields are extra fields: "nologin", "reason", "proxy", "userdb_home", ...
// A flag field has an empty value; presence is what counts.
type Fields map[string]string

// Has reports whether key is present.
func (f Fields) Has(key string) bool {
	_, ok := f[key]
	return ok
}

// Clone returns a copy (never nil).
func (f Fields) Clone() Fields {
	c := make(Fields, len(f))
	maps.Copy(c, f)
	return c
}

// ParseFields splits Dovecot's space-separated "key=value key2" list, as
// passwd-file extra fields and default_fields are written.
func ParseFields(s string) Fields {
	f := Fields{}
	for _, kv := range strings.Fields(s) {
		k, v, _ := strings.Cut(kv, "=")
		f[k] = v
	}
	return f
}

// splitUserdb separates "userdb_"-prefixed fields (returned stripped) from
// passdb fields.
func splitUserdb(f Fields) (pass, user Fields) {
	pass, user = Fields{}, Fields{}
	for k, v := range f {
		if u, ok := strings.CutPrefix(k, "userdb_"); ok {
			user[u] = v
		} else {
			pass[k] = v
		}
	}
	return pass, user
}

// Keys returns f's keys: first those of order that f has, in that order,
// then the rest sorted.
func (f Fields) Keys(order []string) []string {
	out := make([]string, 0, len(f))
	seen := make(map[string]bool, len(f))
	for _, k := range order {
		if _, ok := f[k]; ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	var rest []string
	for k := range f {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// ParseFieldsOrdered is ParseFields that also returns the keys in the
// order written.
func ParseFieldsOrdered(s string) (Fields, []string) {
	f := Fields{}
	var order []string
	for _, kv := range strings.Fields(s) {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := f[k]; !dup {
			order = append(order, k)
		}
		f[k] = v
	}
	return f, order
}
