package imapserver

import "context"

// cmdSearch is SEARCH and UID SEARCH (RFC 3501 section 6.4.4). Stub owned
// by helper 5; see HANDOFF.md.
func cmdSearch(ctx context.Context, c *conn, cmd *command) error {
	return no("", "SEARCH is not implemented yet.")
}
