package imap

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// AppendCaseMap appends s in the canonical form of the i;unicode-casemap
// comparator (RFC 5051 section 2): every character is replaced by its
// simple titlecase mapping (UnicodeData.txt field 14, or the character
// itself), then the string is decomposed by NFKD. Each byte of s that is
// not part of valid UTF-8 becomes U+FFFD, as in Dovecot's
// uni_utf8_to_decomposed_titlecase.
func AppendCaseMap(dst []byte, s string) []byte {
	if isASCIINoLower(s) {
		return append(dst, s...)
	}
	titled := make([]byte, 0, len(s)+8)
	for _, r := range s { // invalid bytes arrive as RuneError, one per byte
		titled = utf8.AppendRune(titled, unicode.ToTitle(r))
	}
	return norm.NFKD.Append(dst, titled...)
}

// CaseMap returns the i;unicode-casemap canonical form of s; see
// AppendCaseMap.
func CaseMap(s string) string {
	if isASCIINoLower(s) {
		return s
	}
	return string(AppendCaseMap(nil, s))
}

// CompareCaseMap orders a and b by the i;unicode-casemap comparator (RFC
// 5051 section 2.2): the octets of their canonical forms.
func CompareCaseMap(a, b string) int {
	ca, cb := CaseMap(a), CaseMap(b)
	switch {
	case ca < cb:
		return -1
	case ca > cb:
		return 1
	}
	return 0
}

// isASCIINoLower reports whether s is ASCII without lower-case letters:
// already in canonical form.
func isASCIINoLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c >= 'a' && c <= 'z' {
			return false
		}
	}
	return true
}
