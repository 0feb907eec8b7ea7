package imapserver

import "context"

// cmdNoop is NOOP (RFC 3501 section 6.1.2) and CHECK (section 6.4.1).
// Changes are announced by the dispatcher's closing sync.
func cmdNoop(ctx context.Context, c *conn, cmd *command) error {
	if !cmd.end() {
		return cmd.dec.Err()
	}
	return nil
}

// cmdCheck is CHECK: a checkpoint; storage commits as it goes.
func cmdCheck(ctx context.Context, c *conn, cmd *command) error {
	return cmdNoop(ctx, c, cmd)
}
