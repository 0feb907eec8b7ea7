package sievestore

import (
	"errors"
	"fmt"
)

// Kind classifies a storage error; ManageSieve maps each to its response
// code (RFC 5804 section 1.3) in one table.
type Kind int

// Error kinds.
const (
	KindNotFound       Kind = iota + 1 // NONEXISTENT
	KindExists                         // ALREADYEXISTS
	KindActive                         // ACTIVE
	KindBadName                        // no code
	KindQuotaMaxSize                   // QUOTA/MAXSIZE
	KindQuotaMaxScript                 // QUOTA/MAXSCRIPTS
	KindQuotaStorage                   // QUOTA/MAXSTORAGE
	KindNoStorage                      // no personal storage configured
)

// Error is a storage error with the text a client may see.
type Error struct {
	Kind Kind
	Text string
}

func (e *Error) Error() string { return e.Text }

// KindOf returns the kind of err, 0 for an unexpected (internal) error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func errNotFound(name string) error {
	return &Error{KindNotFound, fmt.Sprintf("Sieve script `%s' not found", sanitize(name))}
}

func errBadName(name string) error {
	return &Error{KindBadName, fmt.Sprintf("Invalid script name `%s'.", sanitize(name))}
}

// sanitize keeps a client-given name printable in a reply.
func sanitize(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			r = '?'
		}
		out = append(out, r)
		if len(out) >= 80 {
			out = append(out, '.', '.', '.')
			break
		}
	}
	return string(out)
}
