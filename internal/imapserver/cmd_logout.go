package imapserver

import "context"

// cmdLogout is LOGOUT (RFC 3501 section 6.1.3): "* BYE Logging out",
// then the tagged OK; the selected mailbox is closed without expunging.
func cmdLogout(ctx context.Context, c *conn, cmd *command) error {
	if !cmd.end() {
		return cmd.dec.Err()
	}
	c.untaggedStatus(typeBYE, "", "Logging out")
	c.logout = "Logged out"
	if c.state == stateNotAuth {
		c.logout = "Aborted login by logging out"
	}
	c.state = stateLogout
	return nil
}
