package ldapdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"roost/internal/auth"
	"roost/internal/varexpand"
)

// Defaults for Options.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultMaxConns = 4
	iteratePageSize = 500
)

// Options are the driver's run-time options.
type Options struct {
	Timeout  time.Duration // per operation; 0 means DefaultTimeout
	MaxConns int           // per pool; 0 means DefaultMaxConns
}

// DB is one dovecot-ldap.conf.ext: settings and connection pools.
type DB struct {
	conf  *Conf
	conns *pool // searches, bound as dn
	binds *pool // authentication binds
}

// Open parses the args file; no connection is made until the first lookup.
func Open(path string, opts Options) (*DB, error) {
	c, err := ParseConfFile(strings.TrimSpace(path))
	if err != nil {
		return nil, err
	}
	return OpenConf(c, opts), nil
}

// OpenConf prepares the pools for a parsed configuration.
func OpenConf(c *Conf, opts Options) *DB {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	return &DB{conf: c, conns: newPool(c, opts.Timeout, opts.MaxConns, true), binds: newPool(c, opts.Timeout, opts.MaxConns, false)}
}

// Close closes idle connections.
func (db *DB) Close() error {
	db.conns.close()
	db.binds.close()
	return nil
}

// errNUL: no directory entry is named with a NUL byte.
var errNUL = errors.New("NUL byte in a lookup variable")

// expand fills a template, escaping each variable's value with esc.
func expand(tmpl string, vars varexpand.Lookup, esc func(string) string) (string, error) {
	nul := false
	e := varexpand.Expander{Vars: vars, Escape: func(v string) string {
		if strings.IndexByte(v, 0) >= 0 {
			nul = true
		}
		return esc(v)
	}}
	out, err := e.Expand(tmpl)
	if err != nil {
		return "", err
	}
	if nul {
		return "", errNUL
	}
	return out, nil
}

// find searches filter under base for the request and returns the only
// matching entry, nil when none matches.
func (db *DB) find(ctx context.Context, req *auth.Request, filter string, attrs []Attr) (*ldap.Entry, error) {
	vars := req.Vars()
	base, err := expand(db.conf.Base, vars, ldap.EscapeDN)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	f, err := expand(filter, vars, ldap.EscapeFilter)
	if err != nil {
		return nil, fmt.Errorf("filter: %w", err)
	}
	names := requested(attrs)
	if len(names) == 0 {
		names = []string{"1.1"} // RFC 4511 section 4.5.1.8: no attributes
	}
	sr := ldap.NewSearchRequest(base, db.conf.Scope, db.conf.Deref, 0, 0, false, f, names, nil)
	var res *ldap.SearchResult
	err = db.conns.do(ctx, func(c *ldap.Conn) error {
		var err error
		res, err = c.Search(sr)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("search %s under %q: %w", f, base, err)
	}
	switch len(res.Entries) {
	case 0:
		return nil, nil
	case 1:
		return res.Entries[0], nil
	}
	return nil, fmt.Errorf("filter %s matched %d entries", f, len(res.Entries))
}

// bind checks password by binding as dn on a bind connection.
func (db *DB) bind(ctx context.Context, dn, password string) (auth.Status, error) {
	if password == "" {
		return auth.PasswordMismatch, errors.New("empty password refused for an authentication bind")
	}
	err := db.binds.do(ctx, func(c *ldap.Conn) error { return c.Bind(dn, password) })
	switch {
	case err == nil:
		return auth.OK, nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials):
		return auth.PasswordMismatch, nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return auth.UserUnknown, nil
	}
	return auth.InternalFail, fmt.Errorf("bind as %s: %w", dn, err)
}

// status maps a lookup error.
func status(err error) auth.Status {
	if errors.Is(err, errNUL) {
		return auth.UserUnknown
	}
	return auth.InternalFail
}

// Passdb is the ldap passdb.
type Passdb struct{ db *DB }

// NewPassdb returns the passdb of db.
func NewPassdb(db *DB) *Passdb { return &Passdb{db: db} }

// Close closes the LDAP connections (auth.Auth.Close calls it).
func (p *Passdb) Close() error { return p.db.Close() }

// lookup finds the user with pass_filter and maps pass_attrs. ok is false
// when res is the final answer.
func (p *Passdb) lookup(ctx context.Context, req *auth.Request) (e *ldap.Entry, f auth.Fields, res auth.PassResult, ok bool) {
	e, err := p.db.find(ctx, req, p.db.conf.PassFilter, p.db.conf.PassAttrs)
	if err != nil {
		return nil, nil, auth.PassResult{Status: status(err), Err: fmt.Errorf("ldap passdb: %w", err)}, false
	}
	if e == nil {
		return nil, nil, auth.PassResult{Status: auth.UserUnknown}, false
	}
	f, err = entryFields(req, e, p.db.conf.PassAttrs)
	if err != nil {
		return nil, nil, auth.PassResult{Status: auth.InternalFail, Err: fmt.Errorf("ldap passdb: %w", err)}, false
	}
	return e, f, auth.PassResult{}, true
}

// VerifyPlain implements auth.Passdb.
func (p *Passdb) VerifyPlain(ctx context.Context, req *auth.Request, password string) auth.PassResult {
	c := p.db.conf
	if c.AuthBind && c.AuthBindUserDN != "" && !req.SkipPasswordCheck() {
		return p.bindUserDN(ctx, req, password)
	}
	e, f, res, ok := p.lookup(ctx, req)
	if !ok {
		return res
	}
	stored := f["password"]
	delete(f, "password")
	if !c.AuthBind || req.SkipPasswordCheck() {
		st, err := req.VerifyPassword(ctx, password, stored, c.Scheme, f)
		return auth.PassResult{Status: st, Fields: f, Err: err}
	}
	if f.Has("nopassword") {
		return auth.PassResult{Status: auth.OK, Fields: f}
	}
	st, err := p.db.bind(ctx, e.DN, password)
	if st == auth.UserUnknown {
		st = auth.InternalFail // the entry was just found
	}
	return auth.PassResult{Status: st, Fields: f, Err: err}
}

// bindUserDN binds with the DN template and fetches nothing (Dovecot: no
// prefetch with auth_bind_userdn).
func (p *Passdb) bindUserDN(ctx context.Context, req *auth.Request, password string) auth.PassResult {
	dn, err := expand(p.db.conf.AuthBindUserDN, req.Vars(), ldap.EscapeDN)
	if err != nil {
		return auth.PassResult{Status: status(err), Err: fmt.Errorf("ldap auth_bind_userdn: %w", err)}
	}
	st, err := p.db.bind(ctx, dn, password)
	return auth.PassResult{Status: st, Fields: auth.Fields{}, Err: err}
}

// LookupCredentials implements auth.Passdb. With auth_bind there is no
// password to return; the lookup still tells whether the user exists.
func (p *Passdb) LookupCredentials(ctx context.Context, req *auth.Request) auth.PassResult {
	_, f, res, ok := p.lookup(ctx, req)
	if !ok {
		return res
	}
	stored := f["password"]
	delete(f, "password")
	if p.db.conf.AuthBind {
		stored = ""
	}
	return auth.PassResult{Status: auth.OK, Password: stored, Scheme: p.db.conf.Scheme, Fields: f}
}

// Userdb is the ldap userdb.
type Userdb struct{ db *DB }

// NewUserdb returns the userdb of db.
func NewUserdb(db *DB) *Userdb { return &Userdb{db: db} }

// Close closes the LDAP connections (auth.Auth.Close calls it).
func (u *Userdb) Close() error { return u.db.Close() }

// LookupUser implements auth.Userdb with user_filter and user_attrs.
func (u *Userdb) LookupUser(ctx context.Context, req *auth.Request) auth.UserResult {
	e, err := u.db.find(ctx, req, u.db.conf.UserFilter, u.db.conf.UserAttrs)
	if err != nil {
		return auth.UserResult{Status: status(err), Err: fmt.Errorf("ldap userdb: %w", err)}
	}
	if e == nil {
		return auth.UserResult{Status: auth.UserUnknown}
	}
	f, err := entryFields(req, e, u.db.conf.UserAttrs)
	if err != nil {
		return auth.UserResult{Status: auth.InternalFail, Err: fmt.Errorf("ldap userdb: %w", err)}
	}
	return auth.UserResult{Status: auth.OK, Fields: f}
}

// IterateUsers implements auth.UserIterator with iterate_filter and the
// "user" field of iterate_attrs, paging through large directories.
func (u *Userdb) IterateUsers(ctx context.Context, fn func(string) error) error {
	c := u.db.conf
	var userAttr *Attr
	for i := range c.IterateAttrs {
		if c.IterateAttrs[i].Field == "user" {
			userAttr = &c.IterateAttrs[i]
		}
	}
	if userAttr == nil || userAttr.LDAP == "" {
		return errors.New("ldap: iterate_attrs has no attribute mapped to user")
	}
	base, err := expand(c.Base, varexpand.Map{}, ldap.EscapeDN)
	if err != nil {
		return fmt.Errorf("ldap iterate base: %w", err)
	}
	sr := ldap.NewSearchRequest(base, c.Scope, c.Deref, 0, 0, false, c.IterateFilter, []string{userAttr.LDAP}, nil)
	var res *ldap.SearchResult
	err = u.db.conns.do(ctx, func(conn *ldap.Conn) error {
		var err error
		res, err = conn.SearchWithPaging(sr, iteratePageSize)
		return err
	})
	if err != nil {
		return fmt.Errorf("ldap iterate: %w", err)
	}
	for _, e := range res.Entries {
		for _, v := range e.GetEqualFoldAttributeValues(userAttr.LDAP) {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// CacheKey implements auth.CacheKeyer: the variables of base and
// pass_filter.
func (p *Passdb) CacheKey() string { return auth.CacheKeyOf(p.db.conf.Base, p.db.conf.PassFilter) }

// CacheKey implements auth.CacheKeyer: the variables of base and
// user_filter.
func (u *Userdb) CacheKey() string { return auth.CacheKeyOf(u.db.conf.Base, u.db.conf.UserFilter) }
