package imapserver

import "context"

// cmdExpunge is EXPUNGE (RFC 3501 section 6.4.3) and UID EXPUNGE (RFC
// 4315). Stub owned by helper 5; see HANDOFF.md.
func cmdExpunge(ctx context.Context, c *conn, cmd *command) error {
	return no("", "EXPUNGE is not implemented yet.")
}
