package auth

import (
	"context"
	"errors"
)

// passdbFromCache answers a passdb call from the cache (Dovecot's
// passdb-cache.c). A password is checked against the cached hash; a
// mismatch after a success, or once the negative TTL has passed, goes
// back to the database (the password may have changed). hit is false
// when the database must be asked.
func (a *Auth) passdbFromCache(ctx context.Context, req *Request, key string, password *string) (PassResult, bool) {
	e, negExpired, ok := a.cache.get(key)
	if !ok {
		return PassResult{}, false
	}
	if e.negative {
		a.log.Debug("cache hit: user unknown", "user", req.User, "service", req.Service)
		return PassResult{Status: UserUnknown, Err: errors.New("user unknown (cached)")}, true
	}
	res := e.pass
	res.Fields = res.Fields.Clone()
	nopass := res.Fields.Has("nopassword")
	if password == nil {
		return res, true
	}
	if res.Password == "" && !nopass {
		return PassResult{}, false
	}
	st, err := req.VerifyPassword(ctx, *password, res.Password, res.Scheme, res.Fields)
	if st == PasswordMismatch && (e.lastSuccess || negExpired) {
		a.cache.setLastSuccess(key, false)
		return PassResult{}, false
	}
	if st == OK || st == PasswordMismatch {
		a.cache.setLastSuccess(key, st == OK)
	}
	a.log.Debug("cache hit", "user", req.User, "service", req.Service, "status", st.String())
	if st != OK {
		return PassResult{Status: st, Err: err}, true
	}
	res.Password, res.Scheme = "", ""
	return res, true
}

// passdbToCache stores a database answer: found users with their hash
// (or, for passdbs that check passwords themselves, the verified password
// hashed), unknown users as negative entries. Temporary failures are not
// cached.
func (a *Auth) passdbToCache(req *Request, key string, password *string, res PassResult) {
	e := &cacheEntry{key: key, user: req.User}
	switch res.Status {
	case UserUnknown:
		e.negative = true
	case OK, PasswordMismatch:
		if req.skipPasswordCheck && password != nil {
			return
		}
		stored, scheme := res.Password, res.Scheme
		if password != nil {
			stored, scheme = req.stored, req.storedScheme
			if stored == "" && res.Status == OK && !res.Fields.Has("nopassword") {
				stored, scheme = cachedPassword(*password, req.User), ""
			}
		}
		if stored == "" && !res.Fields.Has("nopassword") {
			return
		}
		e.pass = PassResult{Status: OK, Password: stored, Scheme: scheme, Fields: res.Fields.Clone(), Order: res.Order}
		e.lastSuccess = res.Status == OK
	default:
		return
	}
	a.cache.put(e)
}

// userdbFromCache answers a userdb call from the cache.
func (a *Auth) userdbFromCache(key string) (UserResult, bool) {
	e, _, ok := a.cache.get(key)
	if !ok {
		return UserResult{}, false
	}
	if e.negative {
		return UserResult{Status: UserUnknown, Err: errors.New("user unknown (cached)")}, true
	}
	r := e.user2
	r.Fields = r.Fields.Clone()
	return r, true
}

func (a *Auth) userdbToCache(req *Request, key string, res UserResult) {
	e := &cacheEntry{key: key, user: req.User}
	switch res.Status {
	case UserUnknown:
		e.negative = true
	case OK:
		e.user2 = UserResult{Status: OK, Fields: res.Fields.Clone(), Order: res.Order}
	default:
		return
	}
	a.cache.put(e)
}
