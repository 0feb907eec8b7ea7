package pop3server

import (
	"fmt"
)

// msgnum parses a message number argument as Dovecot's get_msgnum and
// returns its index and the rest of args.
func (c *conn) msgnum(args string, thenSpace bool) (int, string, error) {
	n, rest, err := parseNumber(args, 32, thenSpace, "message number")
	if err != nil {
		return 0, "", err
	}
	if n == 0 || n > uint64(len(c.box.msgs)) {
		return 0, "", &numberError{fmt.Sprintf("There's no message %d.", n)}
	}
	i := int(n - 1)
	if c.box.deleted[i] {
		return 0, "", &numberError{"Message is deleted."}
	}
	return i, rest, nil
}
