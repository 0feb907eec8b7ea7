package pop3server

import (
	"context"
)

// cmdDele is DELE (RFC 1939 section 5): the message is only marked; QUIT
// deletes it.
func cmdDele(_ context.Context, c *conn, args string) error {
	i, _, err := c.msgnum(args, false)
	if err != nil {
		return err
	}
	c.box.dele(i)
	c.ok("Marked to be deleted.")
	return nil
}
