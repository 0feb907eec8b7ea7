package imap

import "strings"

// System flags (RFC 3501 section 2.3.2).
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
	FlagRecent   = `\Recent`
	// FlagWildcard appears in PERMANENTFLAGS when keywords may be created.
	FlagWildcard = `\*`
)

// SystemFlags are the stored system flags in Dovecot's order.
var SystemFlags = []string{FlagAnswered, FlagFlagged, FlagDeleted, FlagSeen, FlagDraft}

// CanonicalFlag returns the canonical spelling of a flag: system flags are
// case-insensitive and returned as defined above; keywords are returned
// unchanged. ok is false for an unknown backslash flag or for a string
// that is not a valid flag atom.
func CanonicalFlag(f string) (canon string, ok bool) {
	if strings.HasPrefix(f, `\`) {
		for _, sf := range [...]string{FlagSeen, FlagAnswered, FlagFlagged, FlagDeleted, FlagDraft, FlagRecent} {
			if strings.EqualFold(f, sf) {
				return sf, true
			}
		}
		return f, false
	}
	return f, IsAtom(f)
}

// IsSystemFlag reports whether f (canonical) is a system flag.
func IsSystemFlag(f string) bool {
	return strings.HasPrefix(f, `\`)
}

// IsAtomChar reports whether b is an ATOM-CHAR (RFC 3501 section 9).
func IsAtomChar(b byte) bool {
	switch b {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return b > 0x1f && b < 0x7f
}

// IsAtom reports whether s is a non-empty atom.
func IsAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsAtomChar(s[i]) {
			return false
		}
	}
	return true
}
