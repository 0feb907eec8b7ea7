package delivery

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a Dovecot size as the quota plugin takes them: a number
// of bytes with an optional unit B, k, M, G or T (also kB, MB, ...), any
// case; "0" and "unlimited" are no limit (0).
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "unlimited") {
		return 0, nil
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	unit := strings.ToLower(strings.TrimSpace(s[i:]))
	unit = strings.TrimSuffix(unit, "b")
	shift, ok := map[string]uint{"": 0, "k": 10, "m": 20, "g": 30, "t": 40}[unit]
	if !ok || n > (1<<62)>>shift {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n << shift, nil
}
