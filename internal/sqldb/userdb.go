package sqldb

import (
	"context"
	"errors"
	"fmt"

	"roost/internal/auth"
	"roost/internal/varexpand"
)

// Userdb is the sql userdb.
type Userdb struct{ db *DB }

// NewUserdb returns the userdb of db (user_query, iterate_query).
func NewUserdb(db *DB) *Userdb { return &Userdb{db: db} }

// Close closes the database connections (auth.Auth.Close calls it).
func (u *Userdb) Close() error { return u.db.Close() }

// LookupUser implements auth.Userdb. The first row's non-NULL columns are
// the fields; user, username and domain rename the user.
func (u *Userdb) LookupUser(ctx context.Context, req *auth.Request) auth.UserResult {
	rows, err := u.db.lookupRows(ctx, req, u.db.conf.UserQuery)
	switch {
	case errors.Is(err, errNUL):
		return auth.UserResult{Status: auth.UserUnknown, Err: err}
	case err != nil:
		return auth.UserResult{Status: auth.InternalFail, Err: fmt.Errorf("user_query: %w", err)}
	case len(rows) == 0:
		return auth.UserResult{Status: auth.UserUnknown}
	}
	r := rows[0]
	f := auth.Fields{}
	for name, v := range r.values {
		switch name {
		case "user", "username", "domain":
		default:
			f[name] = v
		}
	}
	if name, changed := userName(req.User, r); changed {
		f["user"] = name
	}
	return auth.UserResult{Status: auth.OK, Fields: f}
}

// IterateUsers implements auth.UserIterator with iterate_query: each row's
// user column, or username@domain.
func (u *Userdb) IterateUsers(ctx context.Context, fn func(string) error) error {
	q, err := u.db.expand(u.db.conf.IterateQuery, varexpand.Map{})
	if err != nil {
		return fmt.Errorf("iterate_query: %w", err)
	}
	_, err = u.db.query(ctx, q, func(r row) error {
		name, _ := userName("", r)
		if name == "" {
			return nil
		}
		return fn(name)
	})
	if err != nil {
		return fmt.Errorf("iterate_query: %w", err)
	}
	return nil
}

// CacheKey implements auth.CacheKeyer: the variables user_query uses.
func (u *Userdb) CacheKey() string { return auth.CacheKeyOf(u.db.conf.UserQuery) }
