package settings

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// parseBool accepts Dovecot's yes/no (and y/n, true/false? no: 2.3 takes
// only yes and no, case-insensitively).
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "y":
		return true, nil
	case "no", "n":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean value: %s (use yes or no)", s)
}

func parseUint(s string) (uint64, error) {
	if s == "unlimited" {
		return math.MaxUint64, nil
	}
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid number: %s", s)
	}
	return u, nil
}

// splitNumUnit splits "10M", "10 M", "+500M" into 10 and "m".
func splitNumUnit(s string) (uint64, string, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "+")
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, "", fmt.Errorf("invalid number: %s", s)
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("invalid number: %s", s)
	}
	return n, strings.ToLower(strings.TrimSpace(s[i:])), nil
}

// parseSize parses Dovecot sizes: "10M", "64 k", "1 G", "123 GB",
// "unlimited".
func parseSize(s string) (uint64, error) {
	if s == "unlimited" {
		return math.MaxUint64, nil
	}
	n, unit, err := splitNumUnit(s)
	if err != nil {
		return 0, fmt.Errorf("invalid size: %s", s)
	}
	var mult uint64
	switch strings.TrimSuffix(unit, "b") {
	case "":
		mult = 1
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	case "t":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("invalid size: %s", s)
	}
	if n > math.MaxUint64/mult {
		return 0, fmt.Errorf("size too large: %s", s)
	}
	return n * mult, nil
}

// parseTime parses Dovecot intervals: "5 secs", "1 min", "90d", "2 weeks".
func parseTime(s string) (time.Duration, error) {
	n, unit, err := splitNumUnit(s)
	if err != nil {
		return 0, fmt.Errorf("invalid time interval: %s", s)
	}
	var mult time.Duration
	switch unit {
	case "", "s", "sec", "secs", "second", "seconds":
		mult = time.Second
	case "ms", "msec", "msecs", "millisecond", "milliseconds":
		mult = time.Millisecond
	case "m", "min", "mins", "minute", "minutes":
		mult = time.Minute
	case "h", "hour", "hours":
		mult = time.Hour
	case "d", "day", "days":
		mult = 24 * time.Hour
	case "w", "week", "weeks":
		mult = 7 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("invalid time interval: %s", s)
	}
	if n > uint64(math.MaxInt64/int64(mult)) {
		return math.MaxInt64, nil
	}
	return time.Duration(n) * mult, nil
}

func parseMode(s string) (uint32, error) {
	u, err := strconv.ParseUint(s, 8, 32)
	if err != nil || u > 0o7777 {
		return 0, fmt.Errorf("invalid file mode: %s", s)
	}
	return uint32(u), nil
}

// canonical returns value in the form doveconf prints for kind k ("1 G",
// "5 secs"), or an error if it does not parse.
func canonical(k kind, name, value string) (string, error) {
	switch k {
	case kindBool:
		b, err := parseBool(value)
		if err != nil {
			return "", err
		}
		return fmtBool(b), nil
	case kindUint:
		u, err := parseUint(value)
		if err != nil {
			return "", err
		}
		return strconv.FormatUint(u, 10), nil
	case kindSize:
		u, err := parseSize(value)
		if err != nil {
			return "", err
		}
		return fmtSize(u), nil
	case kindTime:
		d, err := parseTime(value)
		if err != nil {
			return "", err
		}
		return fmtTime(d), nil
	case kindMode:
		m, err := parseMode(value)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%04o", m), nil
	case kindEnum:
		for _, v := range enumValues(name) {
			if v == value {
				return value, nil
			}
		}
		return "", fmt.Errorf("invalid value %q (allowed: %s)", value, strings.Join(enumValues(name), ", "))
	}
	return value, nil
}

func fmtBool(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func fmtSize(u uint64) string {
	if u == 0 {
		return "0"
	}
	for _, unit := range []struct {
		n    uint64
		name string
	}{{1 << 40, "T"}, {1 << 30, "G"}, {1 << 20, "M"}, {1 << 10, "k"}} {
		if u%unit.n == 0 {
			return strconv.FormatUint(u/unit.n, 10) + " " + unit.name
		}
	}
	return strconv.FormatUint(u, 10) + " B"
}

func fmtTime(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	if d%time.Second != 0 {
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	secs := int64(d / time.Second)
	for _, unit := range []struct {
		n    int64
		name string
	}{{7 * 86400, "weeks"}, {86400, "days"}, {3600, "hours"}, {60, "mins"}} {
		if secs%unit.n == 0 {
			return strconv.FormatInt(secs/unit.n, 10) + " " + unit.name
		}
	}
	return strconv.FormatInt(secs, 10) + " secs"
}
