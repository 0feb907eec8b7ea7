package imapserver

import "context"

// cmdCopy is COPY, UID COPY (RFC 3501 section 6.4.7, RFC 4315 COPYUID),
// MOVE and UID MOVE (RFC 6851); cmd.name tells which. Stub owned by
// helper 5; see HANDOFF.md.
func cmdCopy(ctx context.Context, c *conn, cmd *command) error {
	return no("", cmd.name+" is not implemented yet.")
}
