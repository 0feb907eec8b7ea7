package storage

import (
	"errors"
	"fmt"
)

// Kind classifies storage errors. The set is closed (DESIGN.md section 4):
// each protocol maps kinds to its own response codes in one table.
type Kind int

// Error kinds, after Dovecot's mail-error.h.
const (
	KindInternal    Kind = iota // unexpected failure; details only in the log
	KindNotFound                // mailbox or message does not exist
	KindExists                  // mailbox already exists
	KindPerm                    // permission denied
	KindNoQuota                 // over quota
	KindExpunged                // message was expunged
	KindInUse                   // locked by another session
	KindLimit                   // a configured limit was reached
	KindTooBig                  // message too large
	KindTemp                    // temporary failure, retry later
	KindUnavailable             // backend (mail root, server) unavailable
	KindNotPossible             // operation not possible for this mailbox/driver
	KindParams                  // invalid parameters (bad mailbox name, ...)
	KindInvalidData             // message data is invalid (zero bytes, ...)
)

var kindNames = [...]string{
	KindInternal: "INTERNAL", KindNotFound: "NOTFOUND", KindExists: "EXISTS",
	KindPerm: "PERM", KindNoQuota: "NOQUOTA", KindExpunged: "EXPUNGED",
	KindInUse: "INUSE", KindLimit: "LIMIT", KindTooBig: "TOOBIG", KindTemp: "TEMP",
	KindUnavailable: "UNAVAILABLE", KindNotPossible: "NOTPOSSIBLE", KindParams: "PARAMS",
	KindInvalidData: "INVALIDDATA",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a storage error with a kind and a message safe to show a
// client. Err, if set, holds the underlying cause for the log.
type Error struct {
	Kind Kind
	Msg  string // client-safe text, e.g. "Mailbox doesn't exist: Foo"
	Err  error  // underlying cause; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted client-safe message.
func Errorf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error of the given kind wrapping cause.
func Wrap(kind Kind, msg string, cause error) error {
	return &Error{Kind: kind, Msg: msg, Err: cause}
}

// KindOf returns the kind of err: the kind of the first *Error in its
// chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ClientText returns the client-safe message of err, or "" when err carries
// none (an internal error, whose details belong in the log only).
func ClientText(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		return e.Msg
	}
	return ""
}
