package pop3server

import (
	"context"
	"fmt"
)

// cmdNoop is NOOP (RFC 1939 section 5); arguments are ignored as by Dovecot.
func cmdNoop(_ context.Context, c *conn, _ string) error {
	c.ok("")
	return nil
}

// cmdLast is the obsolete LAST of RFC 1460, answered only with
// pop3_enable_last.
func cmdLast(_ context.Context, c *conn, _ string) error {
	c.ok(fmt.Sprint(c.box.lastSeen))
	return nil
}
