package sqldb

import (
	"context"
	"errors"
	"fmt"

	"roost/internal/auth"
)

// Passdb is the sql passdb.
type Passdb struct{ db *DB }

// NewPassdb returns the passdb of db (password_query).
func NewPassdb(db *DB) *Passdb { return &Passdb{db: db} }

// Close closes the database connections (auth.Auth.Close calls it).
func (p *Passdb) Close() error { return p.db.Close() }

// entry runs password_query. ok is false when res is the final answer.
func (p *Passdb) entry(ctx context.Context, req *auth.Request) (stored string, fields auth.Fields, res auth.PassResult, ok bool) {
	rows, err := p.db.lookupRows(ctx, req, p.db.conf.PasswordQuery)
	switch {
	case errors.Is(err, errNUL):
		return "", nil, auth.PassResult{Status: auth.UserUnknown, Err: err}, false
	case err != nil:
		return "", nil, auth.PassResult{Status: auth.InternalFail, Err: fmt.Errorf("password_query: %w", err)}, false
	case len(rows) == 0:
		return "", nil, auth.PassResult{Status: auth.UserUnknown}, false
	case len(rows) > 1:
		return "", nil, auth.PassResult{Status: auth.InternalFail, Err: errors.New("password_query returned multiple matches")}, false
	}
	r := rows[0]
	if !hasColumn(r, "password") && !hasColumn(r, "password_noscheme") {
		return "", nil, auth.PassResult{Status: auth.InternalFail, Err: errors.New("password_query must return a field named 'password'")}, false
	}
	stored, fields = passFields(req.User, r, p.db.conf.Scheme)
	return stored, fields, auth.PassResult{}, true
}

func hasColumn(r row, name string) bool {
	for _, c := range r.names {
		if c == name {
			return true
		}
	}
	return false
}

// passFields turns a row into the stored password and extra fields.
func passFields(user string, r row, scheme string) (string, auth.Fields) {
	f := auth.Fields{}
	var stored string
	for name, v := range r.values {
		switch name {
		case "password":
			stored = v
		case "password_noscheme":
			if v != "" {
				stored = "{" + scheme + "}" + v
			}
		case "user", "username", "domain":
		default:
			f[name] = v
		}
	}
	if u, changed := userName(user, r); changed {
		f["user"] = u
	}
	if f.Has("nopassword") {
		f["nopassword"] = ""
	}
	return stored, f
}

// VerifyPlain implements auth.Passdb.
func (p *Passdb) VerifyPlain(ctx context.Context, req *auth.Request, password string) auth.PassResult {
	stored, f, res, ok := p.entry(ctx, req)
	if !ok {
		return res
	}
	st, err := req.VerifyPassword(ctx, password, stored, p.db.conf.Scheme, f)
	return auth.PassResult{Status: st, Fields: f, Err: err}
}

// LookupCredentials implements auth.Passdb.
func (p *Passdb) LookupCredentials(ctx context.Context, req *auth.Request) auth.PassResult {
	stored, f, res, ok := p.entry(ctx, req)
	if !ok {
		return res
	}
	return auth.PassResult{Status: auth.OK, Password: stored, Scheme: p.db.conf.Scheme, Fields: f}
}

// CacheKey implements auth.CacheKeyer: the variables password_query uses.
func (p *Passdb) CacheKey() string { return auth.CacheKeyOf(p.db.conf.PasswordQuery) }
