package message

import (
	"bytes"
	"time"
)

var monthNames = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// ParseDate parses a Date: header value (RFC 5322 section 3.3) exactly as
// Dovecot 2.3's message_date_parse does, because SEARCH SENT* and SORT DATE
// must agree with it on which dates are valid:
//
//	[day-name ","] d[d] month-name (yy | yyyy) h[h] (":" | ".") mm [(":" | ".") ss] [zone]
//
// Tokens are RFC 5322 atoms separated by whitespace and comments. A day
// name must be three letters followed by a comma; only the first three
// letters of the month count; a two-digit year below 70 is 20yy, other
// two-digit years 19yy, and four-digit years below 1900 are invalid, as
// are three-digit years. Fields that a calendar would normalise (31 Feb,
// 24:00) make the date invalid; second 60 is read as 59. An unknown zone
// is UTC; military zones follow Dovecot's (not RFC 822's) signs. It
// reports false when the value is not a date by these rules.
func ParseDate(value []byte) (time.Time, bool) {
	s := dateScanner{rfcParser{data: value}}
	s.skipLWSP()
	tok, n := s.token()
	if n <= 0 {
		return time.Time{}, false
	}
	if len(tok) == 3 { // day name
		if s.pos >= len(s.data) || s.data[s.pos] != ',' {
			return time.Time{}, false
		}
		s.pos++
		s.skipLWSP()
		if tok, n = s.token(); n <= 0 {
			return time.Time{}, false
		}
	}
	day, ok := dateDigits(tok, 1, 2)
	if !ok {
		return time.Time{}, false
	}
	mon, ok := s.month()
	if !ok {
		return time.Time{}, false
	}
	year, ok := s.year()
	if !ok {
		return time.Time{}, false
	}
	clock, ok := s.clock()
	if !ok {
		return time.Time{}, false
	}
	zone, ok := s.zone()
	if !ok {
		return time.Time{}, false
	}
	if clock[2] == 60 {
		clock[2] = 59 // leap second
	}
	t := time.Date(year, time.Month(mon), day, clock[0], clock[1], clock[2], 0, time.UTC)
	if t.Day() != day || t.Month() != time.Month(mon) || t.Hour() != clock[0] || t.Minute() != clock[1] || t.Second() != clock[2] {
		return time.Time{}, false // normalised: not a valid date as written
	}
	return time.Date(year, time.Month(mon), day, clock[0], clock[1], clock[2], 0, time.FixedZone("", zone*60)), true
}

// dateScanner reads the atoms of a date with the RFC 822 tokenizer, as
// Dovecot's message_date_parse does.
type dateScanner struct {
	rfcParser
}

// token reads one atom and the whitespace and comments after it. n is -1
// on a syntax error (no atom here, unterminated comment), 0 at the end of
// the value, 1 otherwise.
func (s *dateScanner) token() (tok []byte, n int) {
	if !s.more() {
		return nil, 0
	}
	if s.parseAtom(&tok) < 0 {
		return tok, -1
	}
	return tok, 1
}

func (s *dateScanner) month() (int, bool) {
	tok, n := s.token()
	if n <= 0 || len(tok) < 3 {
		return 0, false
	}
	for i, m := range monthNames {
		if bytes.EqualFold(tok[:3], []byte(m)) {
			return i + 1, true
		}
	}
	return 0, false
}

func (s *dateScanner) year() (int, bool) {
	tok, n := s.token()
	if n <= 0 || len(tok) != 2 && len(tok) != 4 {
		return 0, false
	}
	year, ok := dateDigits(tok, 2, 4)
	switch {
	case !ok:
		return 0, false
	case len(tok) == 2 && year < 70:
		return year + 2000, true
	case len(tok) == 2:
		return year + 1900, true
	}
	return year, year >= 1900
}

// clock reads h[h] sep mm [sep ss].
func (s *dateScanner) clock() ([3]int, bool) {
	var c [3]int
	tok, n := s.token()
	var ok bool
	if n <= 0 {
		return c, false
	}
	if c[0], ok = dateDigits(tok, 1, 2); !ok || !s.timeSep() {
		return c, false
	}
	if tok, n = s.token(); n < 0 || len(tok) != 2 {
		return c, false
	}
	if c[1], ok = dateDigits(tok, 2, 2); !ok {
		return c, false
	}
	if s.pos < len(s.data) && (s.data[s.pos] == ':' || s.data[s.pos] == '.') {
		s.timeSep()
		if tok, n = s.token(); n <= 0 {
			return c, false
		}
		if c[2], ok = dateDigits(tok, 2, 2); !ok {
			return c, false
		}
	}
	return c, true
}

func (s *dateScanner) timeSep() bool {
	if s.pos >= len(s.data) || s.data[s.pos] != ':' && s.data[s.pos] != '.' {
		return false
	}
	s.pos++
	s.skipLWSP()
	return true
}

// zone reads the optional zone and returns its offset in minutes.
func (s *dateScanner) zone() (int, bool) {
	tok, n := s.token()
	switch {
	case n < 0:
		return 0, false
	case n == 0:
		return 0, true
	}
	return zoneOffset(tok), true
}

// zoneOffset is Dovecot's parse_timezone: numeric offsets, military
// letters (with Dovecot's signs, computed from the letter as written), UT
// and the North American zones; anything else is 0.
func zoneOffset(z []byte) int {
	switch len(z) {
	case 5:
		if z[0] != '+' && z[0] != '-' {
			return 0
		}
		if _, ok := dateDigits(z[1:], 4, 4); !ok {
			return 0
		}
		off := (int(z[1]-'0')*10+int(z[2]-'0'))*60 + int(z[3]-'0')*10 + int(z[4]-'0')
		if z[0] == '-' {
			return -off
		}
		return off
	case 1:
		c, up := int(z[0]), int(upper(z[0]))
		switch {
		case up < 'J':
			return (c - 'A' + 1) * 60
		case up == 'J':
			return 0
		case up <= 'M':
			return (c - 'A') * 60
		case up < 'Z':
			return ('M' - c) * 60
		}
		return 0
	case 2:
		return 0 // UT, or unknown
	case 3:
		return americanZone(z)
	}
	return 0
}

func americanZone(z []byte) int {
	if z[2] != 'T' {
		return 0
	}
	var off int
	switch upper(z[0]) {
	case 'E':
		off = -5 * 60
	case 'C':
		off = -6 * 60
	case 'M':
		off = -7 * 60
	case 'P':
		off = -8 * 60
	default:
		return 0
	}
	switch upper(z[1]) {
	case 'D':
		return off + 60
	case 'S':
		return off
	}
	return 0
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// dateDigits parses tok as a decimal of min to max digits.
func dateDigits(tok []byte, min, max int) (int, bool) {
	if len(tok) < min || len(tok) > max {
		return 0, false
	}
	n := 0
	for _, c := range tok {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
