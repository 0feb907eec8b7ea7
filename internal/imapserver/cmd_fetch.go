package imapserver

import "context"

// cmdFetch is FETCH and UID FETCH (RFC 3501 section 6.4.5). Stub owned by
// helper 5; see HANDOFF.md.
func cmdFetch(ctx context.Context, c *conn, cmd *command) error {
	return no("", "FETCH is not implemented yet.")
}
