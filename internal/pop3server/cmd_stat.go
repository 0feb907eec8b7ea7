package pop3server

import (
	"context"
	"fmt"
)

// cmdStat is STAT (RFC 1939 section 5): messages not marked deleted and
// their total size in CRLF form.
func cmdStat(_ context.Context, c *conn, _ string) error {
	c.ok(fmt.Sprintf("%d %d", c.box.count(), c.box.size()))
	return nil
}
