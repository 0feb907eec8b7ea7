package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Passdb is a password database driver.
type Passdb interface {
	// VerifyPlain finds req.User and checks password, normally with
	// req.VerifyPassword.
	VerifyPlain(ctx context.Context, req *Request, password string) PassResult
	// LookupCredentials finds req.User and returns its stored password in
	// PassResult.Password (with Scheme as its default scheme).
	LookupCredentials(ctx context.Context, req *Request) PassResult
}

// Userdb is a user database driver.
type Userdb interface {
	// LookupUser returns the user's fields (uid, gid, home, mail, ...),
	// with any "userdb_" prefix already removed.
	LookupUser(ctx context.Context, req *Request) UserResult
}

// UserIterator is implemented by userdbs that can list their users.
type UserIterator interface {
	IterateUsers(ctx context.Context, fn func(user string) error) error
}

// Rule is a result_success / result_failure / result_internalfail value.
// The zero value means "the default for that result".
type Rule int

const (
	RuleDefault Rule = iota
	RuleReturn
	RuleReturnOK
	RuleReturnFail
	RuleContinue
	RuleContinueOK
	RuleContinueFail
)

// ParseRule reads Dovecot's spelling ("return-ok", "continue", ...).
func ParseRule(s string) (Rule, error) {
	i := slices.Index(ruleNames(), strings.ToLower(s))
	if i <= 0 {
		return RuleDefault, fmt.Errorf("invalid result rule %q", s)
	}
	return Rule(i), nil
}

func ruleNames() []string {
	return []string{"", "return", "return-ok", "return-fail", "continue", "continue-ok", "continue-fail"}
}

func (r Rule) String() string {
	if n := ruleNames(); int(r) < len(n) {
		return n[r]
	}
	return "rule?"
}

func (r Rule) or(def Rule) Rule {
	if r == RuleDefault {
		return def
	}
	return r
}

// Skip is a passdb's or userdb's skip setting.
type Skip int

const (
	SkipNever Skip = iota
	// SkipAuthenticated (passdb "authenticated", userdb "found") skips
	// when an earlier database succeeded.
	SkipAuthenticated
	// SkipUnauthenticated (passdb "unauthenticated", userdb "notfound")
	// skips when none has succeeded yet.
	SkipUnauthenticated
)

// ParseSkip reads never/authenticated/unauthenticated (passdb) and
// never/found/notfound (userdb).
func ParseSkip(s string) (Skip, error) {
	switch strings.ToLower(s) {
	case "never", "":
		return SkipNever, nil
	case "authenticated", "found":
		return SkipAuthenticated, nil
	case "unauthenticated", "notfound":
		return SkipUnauthenticated, nil
	}
	return SkipNever, fmt.Errorf("invalid skip value %q", s)
}

func (s Skip) skips(success bool) bool {
	switch s {
	case SkipAuthenticated:
		return success
	case SkipUnauthenticated:
		return !success
	}
	return false
}

// PassdbConfig is one passdb { } block.
type PassdbConfig struct {
	id     int    // position in Options.Passdbs, from 1: the cache key's P<id>
	Name   string // driver name for logs ("passwd-file")
	Driver Passdb
	Skip   Skip
	Deny   bool // a user found here is refused
	Master bool // checks master users' passwords
	Pass   bool // master: the login user must also pass the normal passdbs
	// Mechanisms limits the passdb to these SASL mechanisms ("none" for
	// lookups without authentication); empty means all.
	Mechanisms         []string
	ResultSuccess      Rule // default return-ok
	ResultFailure      Rule // default continue
	ResultInternalFail Rule // default continue
	// DefaultFields are set before the driver's fields, OverrideFields
	// after; values are %-templates.
	DefaultFields  Fields
	OverrideFields Fields
}

// UserdbConfig is one userdb { } block.
type UserdbConfig struct {
	id                 int // position in Options.Userdbs, from 1
	Name               string
	Driver             Userdb
	Skip               Skip // never, found, notfound
	ResultSuccess      Rule // default return-ok
	ResultFailure      Rule // default continue
	ResultInternalFail Rule // default continue
	DefaultFields      Fields
	OverrideFields     Fields
}

func (p *PassdbConfig) wants(req *Request, success bool) bool {
	if len(p.Mechanisms) > 0 {
		mech := req.Mechanism
		if mech == "" {
			mech = "none"
		}
		if !slices.ContainsFunc(p.Mechanisms, func(m string) bool { return strings.EqualFold(m, mech) }) {
			return false
		}
	}
	return !p.Skip.skips(success)
}

// rule picks the rule for a driver status.
func rule(s Status, success, failure, internal Rule) Rule {
	switch s {
	case OK:
		return success.or(RuleReturnOK)
	case InternalFail:
		return internal.or(RuleContinue)
	}
	return failure.or(RuleContinue)
}

// apply returns whether the chain continues and updates success.
func (r Rule) apply(success *bool) (cont bool) {
	switch r {
	case RuleReturnOK:
		*success = true
	case RuleReturnFail:
		*success = false
	case RuleContinue:
		cont = true
	case RuleContinueOK:
		*success, cont = true, true
	case RuleContinueFail:
		*success, cont = false, true
	}
	return cont
}
