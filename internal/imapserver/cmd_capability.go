package imapserver

import "context"

// cmdCapability is CAPABILITY (RFC 3501 section 6.1.1).
func cmdCapability(ctx context.Context, c *conn, cmd *command) error {
	if !cmd.end() {
		return cmd.dec.Err()
	}
	c.untagged().Atom("CAPABILITY").SP().Text(c.capabilities()).CRLF()
	if c.state == stateNotAuth {
		c.capsSeen = c.capsSeen || !c.didStartTLS
		cmd.okText = "Pre-login capabilities listed, post-login capabilities have more."
	}
	return nil
}
