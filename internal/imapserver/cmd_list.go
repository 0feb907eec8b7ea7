package imapserver

import "context"

// cmdList is LIST and LSUB.
func cmdList(ctx context.Context, c *conn, cmd *command) error {
	return no("", "not yet")
}
