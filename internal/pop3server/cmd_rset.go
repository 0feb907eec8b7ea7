package pop3server

import (
	"context"
)

// cmdRset is RSET (RFC 1939 section 5): DELE and \Seen marks are dropped.
func cmdRset(_ context.Context, c *conn, _ string) error {
	c.box.rset()
	c.ok("")
	return nil
}
