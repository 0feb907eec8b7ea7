package staticdb

import (
	"context"
	"errors"

	"roost/internal/auth"
)

// Prefetch is the prefetch userdb (Dovecot userdb-prefetch.c): it answers
// with the userdb_* fields the passdb chain returned for this request.
// Without them (LMTP and doveadm lookups, or a passdb that returned none)
// the user is unknown to it, so the next userdb answers; when it is the
// only userdb that is an internal failure, as in Dovecot.
type Prefetch struct {
	alone bool
}

// NewPrefetch returns the prefetch userdb; alone is true when it is the
// only userdb configured.
func NewPrefetch(alone bool) *Prefetch { return &Prefetch{alone: alone} }

var (
	errPrefetchOnly = errors.New("prefetch: userdb lookup not possible with only userdb prefetch")
	errNoPrefetch   = errors.New("prefetch: passdb didn't return userdb entries")
)

// LookupUser implements auth.Userdb. The chain starts from the prefetched
// fields already, so a hit adds nothing.
func (p *Prefetch) LookupUser(_ context.Context, req *auth.Request) auth.UserResult {
	if f, ok := req.Prefetched(); ok {
		return auth.UserResult{Status: auth.OK, Fields: f}
	}
	if !p.alone {
		return auth.UserResult{Status: auth.UserUnknown}
	}
	if req.Authenticated() {
		return auth.UserResult{Status: auth.InternalFail, Err: errNoPrefetch}
	}
	return auth.UserResult{Status: auth.InternalFail, Err: errPrefetchOnly}
}
