package login

import (
	"errors"
	"fmt"

	"roost/internal/auth"
)

// Kind classifies a login failure for the protocol's reply.
type Kind int

const (
	// Failed: wrong password, unknown user, malformed SASL data. IMAP:
	// NO [AUTHENTICATIONFAILED] Authentication failed.
	Failed Kind = iota + 1
	// TempFail: a database could not answer. IMAP: NO [UNAVAILABLE]
	// Temporary authentication failure.
	TempFail
	// PlaintextDisabled: plaintext authentication on an insecure
	// connection. IMAP: NO [PRIVACYREQUIRED].
	PlaintextDisabled
	// UnknownMechanism: not in auth_mechanisms. IMAP: NO Unsupported
	// authentication mechanism.
	UnknownMechanism
	// Aborted: the client sent "*". IMAP: BAD Authentication aborted.
	Aborted
	// Nologin: the password was right but the passdb refuses the login
	// ("nologin"); Reason is the passdb's text and Fields may name a
	// referral host.
	Nologin
)

// Sentinels for errors.Is; an *Error matches the one of its Kind.
var (
	ErrFailed            = errors.New("authentication failed")
	ErrTempFail          = errors.New("temporary authentication failure")
	ErrPlaintextDisabled = errors.New("plaintext authentication disallowed on non-secure connections")
	ErrUnknownMechanism  = errors.New("unsupported authentication mechanism")
	ErrAborted           = errors.New("authentication aborted by client")
	ErrNologin           = errors.New("login refused")
)

func (k Kind) sentinel() error {
	switch k {
	case Failed:
		return ErrFailed
	case TempFail:
		return ErrTempFail
	case PlaintextDisabled:
		return ErrPlaintextDisabled
	case UnknownMechanism:
		return ErrUnknownMechanism
	case Aborted:
		return ErrAborted
	case Nologin:
		return ErrNologin
	}
	return nil
}

func (k Kind) String() string {
	if s := k.sentinel(); s != nil {
		return s.Error()
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a failed login. Reason and Fields are safe to show the client;
// Err is for the log only.
type Error struct {
	Kind   Kind
	Reason string      // passdb "reason" field, if any
	Fields auth.Fields // passdb extra fields (nologin referrals: proxy, host, ...)
	Err    error       // internal detail, never shown to the client
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal detail.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the Kind's sentinel (errors.Is(err, login.ErrTempFail)).
func (e *Error) Is(target error) bool { return target != nil && target == e.Kind.sentinel() }

// KindOf returns the Kind of err, or 0 when err is not a login error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}
