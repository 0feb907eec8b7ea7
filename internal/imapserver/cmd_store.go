package imapserver

import "context"

// cmdStore is STORE and UID STORE (RFC 3501 section 6.4.6). Stub owned by
// helper 5; see HANDOFF.md.
func cmdStore(ctx context.Context, c *conn, cmd *command) error {
	return no("", "STORE is not implemented yet.")
}
