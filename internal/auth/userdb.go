package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// LookupUser runs the userdb chain for req.User. After VerifyPlain on the
// same request, the passdb's userdb_* fields are the starting point and
// each userdb's fields override them. A userdb that needs to know whether
// the user exists may call req.LookupPassdb.
func (a *Auth) LookupUser(ctx context.Context, req *Request) UserResult {
	if err := a.normalize(req); err != nil {
		return UserResult{Status: UserUnknown, Err: err}
	}
	req.lookupPassdb = func(ctx context.Context) PassResult {
		sub := *req
		sub.lookupPassdb = nil
		sub.Mechanism = ""
		res := a.runPassdbs(ctx, &sub, a.passdbs, nil)
		return PassResult{Status: res.Status, Fields: res.Fields, Err: res.Err}
	}
	defer func() { req.lookupPassdb = nil }()

	req.pool = a.pool
	fields := req.prefetch.Clone()
	order := req.prefetch.Keys(req.prefetchOrder)
	var success, seenInternal bool
	var lastErr error
	i := a.nextUserdb(0, false)
	if i == len(a.userdbs) {
		return UserResult{Status: InternalFail, User: req.User, Err: errors.New("all user databases were skipped")}
	}
	for {
		db := &a.userdbs[i]
		res := a.callUserdb(ctx, req, db)
		if res.Err != nil {
			lastErr = res.Err
		}
		a.logUserdb(req, db, res)
		r := rule(res.Status, db.ResultSuccess, db.ResultFailure, db.ResultInternalFail)
		cont := r.apply(&success)
		if res.Status == InternalFail {
			seenInternal = true
		}
		if res.Status == OK {
			order = append(order, res.Fields.Keys(res.Order)...)
			for k, v := range res.Fields {
				fields[k] = v
			}
			if u := fields["user"]; u != "" {
				req.User = u
			}
			delete(fields, "user")
		}
		next := a.nextUserdb(i+1, success)
		if cont && next < len(a.userdbs) {
			i = next
			continue
		}
		st := res.Status
		switch {
		case success:
			st = OK
		case seenInternal:
			st = InternalFail
		case st == OK:
			// return rule after a found user without success: keep OK.
		default:
			st = UserUnknown
		}
		if st != OK {
			return UserResult{Status: st, User: req.User, Err: lastErr}
		}
		return UserResult{Status: OK, User: req.User, Fields: fields, Order: dedup(order)}
	}
}

func (a *Auth) nextUserdb(from int, success bool) int {
	for from < len(a.userdbs) && a.userdbs[from].Skip.skips(success) {
		from++
	}
	return from
}

func (a *Auth) callUserdb(ctx context.Context, req *Request, db *UserdbConfig) UserResult {
	key, cached := a.cacheKey(req, 'U', db.id, db.Driver)
	res, hit := UserResult{}, false
	if cached {
		res, hit = a.userdbFromCache(key)
	}
	if !hit {
		a.blocking(ctx, db.Driver, func(ctx context.Context) { res = db.Driver.LookupUser(ctx, req) },
			func(err error) { res = UserResult{Status: InternalFail, Err: err} })
		if cached {
			a.userdbToCache(req, key, res)
		}
	}
	if res.Status != OK {
		return res
	}
	f, err := a.templated(req, db.DefaultFields)
	if err != nil {
		return UserResult{Status: InternalFail, Err: fmt.Errorf("userdb %s default_fields: %w", db.Name, err)}
	}
	order := append(f.Keys(nil), res.Fields.Keys(res.Order)...)
	for k, v := range res.Fields {
		f[k] = v
	}
	o, err := a.templated(req, db.OverrideFields)
	if err != nil {
		return UserResult{Status: InternalFail, Err: fmt.Errorf("userdb %s override_fields: %w", db.Name, err)}
	}
	for k, v := range o {
		f[k] = v
	}
	res.Fields, res.Order = f, dedup(append(order, o.Keys(nil)...))
	return res
}

func (a *Auth) logUserdb(req *Request, db *UserdbConfig, res UserResult) {
	attrs := []any{"userdb", db.Name, "user", req.User, "service", req.Service, "status", res.Status.String()}
	if res.Status == InternalFail {
		a.log.Error("userdb lookup failed", append(attrs, "error", errString(res.Err))...)
		return
	}
	a.log.Debug("userdb lookup", attrs...)
}

// IterateUsers calls fn for every user of every userdb that can list its
// users, in chain order. Duplicates across userdbs are reported once.
func (a *Auth) IterateUsers(ctx context.Context, fn func(user string) error) error {
	seen := map[string]bool{}
	for _, db := range a.userdbs {
		it, ok := db.Driver.(UserIterator)
		if !ok {
			continue
		}
		err := it.IterateUsers(ctx, func(u string) error {
			if seen[u] {
				return nil
			}
			seen[u] = true
			return fn(u)
		})
		if err != nil {
			return fmt.Errorf("userdb %s: iterate: %w", db.Name, err)
		}
	}
	return nil
}

// checkAllowNets applies the allow_nets extra field: a comma or space
// separated list of addresses and networks; "local" admits connections
// without a remote IP (unix sockets).
func checkAllowNets(list string, remote netip.AddrPort) error {
	if list == "" {
		return nil
	}
	ip := remote.Addr().Unmap()
	for _, n := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' }) {
		if n == "local" {
			if !remote.IsValid() {
				return nil
			}
			continue
		}
		if !remote.IsValid() {
			continue
		}
		if p, err := netip.ParsePrefix(n); err == nil {
			if p.Masked().Contains(ip) {
				return nil
			}
			continue
		}
		if addr, err := netip.ParseAddr(n); err == nil && addr.Unmap() == ip {
			return nil
		}
	}
	if !remote.IsValid() {
		return errors.New("remote IP not known and 'local' missing")
	}
	return fmt.Errorf("remote IP %s not in allow_nets", ip)
}
