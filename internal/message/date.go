package message

import (
	"strconv"
	"strings"
	"time"
)

var monthNames = map[string]time.Month{
	"jan": time.January, "feb": time.February, "mar": time.March, "apr": time.April,
	"may": time.May, "jun": time.June, "jul": time.July, "aug": time.August,
	"sep": time.September, "oct": time.October, "nov": time.November, "dec": time.December,
}

// obsolete zone names (RFC 5322 section 4.3), offsets in hours
var zoneNames = map[string]int{
	"ut": 0, "gmt": 0, "z": 0, "edt": -4, "est": -5, "cdt": -5, "cst": -6,
	"mdt": -6, "mst": -7, "pdt": -7, "pst": -8,
}

// ParseDate parses an RFC 5322 date-time (section 3.3) including the
// obsolete forms of section 4.3: optional day name, two- and three-digit
// years, missing seconds, named and military zones, comments and extra
// whitespace. A missing or unknown zone is taken as UTC. It reports false
// when no date can be found.
func ParseDate(value []byte) (time.Time, bool) {
	toks := dateTokens(value)
	if len(toks) > 0 && len(toks[0]) >= 3 && !isDigits(toks[0]) {
		if _, isMonth := monthNames[strings.ToLower(toks[0][:3])]; !isMonth {
			toks = toks[1:] // day name
		}
	}
	if len(toks) < 4 {
		return time.Time{}, false
	}
	day, err := strconv.Atoi(toks[0])
	mon, okMon := monthNames[strings.ToLower(prefix3(toks[1]))]
	if err != nil || !okMon {
		// "Mon DD YYYY" ordering
		mon, okMon = monthNames[strings.ToLower(prefix3(toks[0]))]
		day, err = strconv.Atoi(toks[1])
		if err != nil || !okMon {
			return time.Time{}, false
		}
	}
	year, err := strconv.Atoi(toks[2])
	if err != nil || day < 1 || day > 31 {
		return time.Time{}, false
	}
	switch {
	case len(toks[2]) == 2 && year < 50:
		year += 2000
	case len(toks[2]) <= 3:
		year += 1900
	}
	hms := strings.Split(toks[3], ":")
	if len(hms) < 2 || len(hms) > 3 {
		return time.Time{}, false
	}
	var clock [3]int
	for i, f := range hms {
		if clock[i], err = strconv.Atoi(f); err != nil {
			return time.Time{}, false
		}
	}
	if clock[0] > 23 || clock[1] > 59 || clock[2] > 60 {
		return time.Time{}, false
	}
	loc := time.UTC
	if len(toks) > 4 {
		loc = parseZone(toks[4])
	}
	return time.Date(year, mon, day, clock[0], clock[1], clock[2], 0, loc), true
}

func parseZone(z string) *time.Location {
	if len(z) == 5 && (z[0] == '+' || z[0] == '-') && isDigits(z[1:]) {
		h, _ := strconv.Atoi(z[1:3])
		m, _ := strconv.Atoi(z[3:5])
		off := h*3600 + m*60
		if z[0] == '-' {
			off = -off
		}
		return time.FixedZone(z, off)
	}
	if h, ok := zoneNames[strings.ToLower(z)]; ok {
		return time.FixedZone(strings.ToUpper(z), h*3600)
	}
	return time.UTC
}

// dateTokens splits a date on whitespace and commas, dropping comments.
func dateTokens(value []byte) []string {
	var toks []string
	var cur []byte
	depth := 0
	flush := func() {
		if len(cur) > 0 {
			toks = append(toks, string(cur))
			cur = cur[:0]
		}
	}
	for _, c := range value {
		switch {
		case c == '(':
			flush()
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',':
			flush()
		default:
			cur = append(cur, c)
		}
	}
	flush()
	return toks
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func prefix3(s string) string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}
