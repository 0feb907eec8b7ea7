package auth

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"

	"roost/internal/pwscheme"
)

// Status is a passdb or userdb outcome.
type Status int

const (
	// InternalFail is a temporary failure: the database could not answer.
	// It must never be shown to the client as "unknown user".
	InternalFail Status = iota
	// OK means the password matched, or the user was found.
	OK
	// PasswordMismatch means the user exists and the password is wrong.
	PasswordMismatch
	// UserUnknown means no database knows the user.
	UserUnknown
	// UserDisabled means a deny passdb matched, or the user may not log in.
	UserDisabled
	// PassExpired means the password has expired.
	PassExpired
	// SchemeNotAvailable means the stored password uses an unknown scheme.
	SchemeNotAvailable
)

func (s Status) String() string {
	switch s {
	case InternalFail:
		return "internal failure"
	case OK:
		return "ok"
	case PasswordMismatch:
		return "password mismatch"
	case UserUnknown:
		return "unknown user"
	case UserDisabled:
		return "user disabled"
	case PassExpired:
		return "password expired"
	case SchemeNotAvailable:
		return "scheme not available"
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

var errNoChain = errors.New("passdb lookup outside a userdb lookup")

func isUnknownScheme(err error) bool { return errors.Is(err, pwscheme.ErrUnknownScheme) }

// PassResult is what one passdb driver returns.
type PassResult struct {
	Status Status
	// Password is the stored password ("{SCHEME}..."), set by
	// LookupCredentials. It is never logged.
	Password string
	// Scheme is the default scheme for a Password without prefix.
	Scheme string
	// Fields are the extra fields; "userdb_*" ones are prefetched userdb
	// fields.
	Fields Fields
	// Order lists keys of Fields in the order the database returned
	// them (optional; keys it lacks come after, sorted). Dovecot's
	// answers keep passdb order.
	Order []string
	// Err is the detail of a failure, for the log only.
	Err error
}

// Result is the outcome of a passdb chain.
type Result struct {
	Status Status
	// User is the user name after auth_username_format, "user" fields and
	// master login: the user the session runs as.
	User string
	// MasterUser is set after a master-user login.
	MasterUser string
	// Fields are the passdb extra fields of the passdbs that succeeded.
	Fields Fields
	// Userdb are the userdb_* fields, prefix removed (prefetch).
	Userdb Fields
	// Order lists the keys of Fields and, with their "userdb_" prefix,
	// of Userdb, in the order the passdbs returned them.
	Order []string
	// Credentials are the raw credentials (LookupCredentials only).
	Credentials []byte
	// Err is the detail of a failure, for the log only.
	Err error

	scheme string // default scheme of Credentials
}

// UserResult is the outcome of a userdb lookup (one driver or the chain).
type UserResult struct {
	Status Status   // OK, UserUnknown or InternalFail
	User   string   // chain only: final user name
	Fields Fields   // uid, gid, home, mail, quota_rule, ...
	Order  []string // keys of Fields in database order (optional)
	Err    error
}

// UserInfo is the userdb answer in typed form.
type UserInfo struct {
	User   string
	UID    int // -1 when the userdb gave none
	GID    int // -1 when the userdb gave none
	Home   string
	Mail   string
	Fields Fields // all fields, including uid/gid/home/mail
}

// Info converts a successful userdb result. uid and gid may be numbers or
// system user/group names.
func (r UserResult) Info() (UserInfo, error) {
	info := UserInfo{User: r.User, UID: -1, GID: -1, Home: r.Fields["home"], Mail: r.Fields["mail"], Fields: r.Fields.Clone()}
	var err error
	if v, ok := r.Fields["uid"]; ok {
		if info.UID, err = ParseUID(v); err != nil {
			return UserInfo{}, err
		}
	}
	if v, ok := r.Fields["gid"]; ok {
		if info.GID, err = ParseGID(v); err != nil {
			return UserInfo{}, err
		}
	}
	return info, nil
}

// ParseUID reads a numeric uid or resolves a user name.
func ParseUID(s string) (int, error) {
	if n, err := strconv.ParseUint(s, 10, 31); err == nil {
		return int(n), nil
	}
	u, err := user.Lookup(s)
	if err != nil {
		return -1, fmt.Errorf("invalid uid %q: %w", s, err)
	}
	return strconv.Atoi(u.Uid)
}

// ParseGID reads a numeric gid or resolves a group name.
func ParseGID(s string) (int, error) {
	if n, err := strconv.ParseUint(s, 10, 31); err == nil {
		return int(n), nil
	}
	g, err := user.LookupGroup(s)
	if err != nil {
		return -1, fmt.Errorf("invalid gid %q: %w", s, err)
	}
	return strconv.Atoi(g.Gid)
}
