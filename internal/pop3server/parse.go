package pop3server

import (
	"strconv"
	"strings"
)

// splitCommand splits a command line as Dovecot does: the name is what
// precedes the first space, upper-cased; the arguments follow it, with
// leading spaces removed.
func splitCommand(line string) (name, args string) {
	name, args, _ = strings.Cut(line, " ")
	return strings.ToUpper(name), strings.TrimLeft(args, " ")
}

// numberError is a reply to a malformed number argument.
type numberError struct{ text string }

func (e *numberError) Error() string { return e.text }

// parseNumber reads a decimal number at the start of args, as Dovecot's
// get_msgnum and get_size: it must start with a digit, fit in bits, and be
// followed by a space (thenSpace) or the end. It returns the number and
// the rest after any spaces. what names the argument in replies
// ("message number", "size").
func parseNumber(args string, bits int, thenSpace bool, what string) (uint64, string, error) {
	if args == "" || args[0] < '0' || args[0] > '9' {
		return 0, "", &numberError{"Invalid " + what + ": " + args}
	}
	end := 0
	for end < len(args) && args[end] >= '0' && args[end] <= '9' {
		end++
	}
	n, err := strconv.ParseUint(args[:end], 10, bits)
	if err != nil {
		return 0, "", &numberError{capitalize(what) + " too large: " + args}
	}
	rest := args[end:]
	if thenSpace && !strings.HasPrefix(rest, " ") || !thenSpace && rest != "" {
		return 0, "", &numberError{"Noise after " + what + ": " + rest}
	}
	return n, strings.TrimLeft(rest, " "), nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
