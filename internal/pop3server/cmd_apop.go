package pop3server

import (
	"context"
	"encoding/hex"
	"strings"
)

// cmdApop is APOP (RFC 1939 section 7), offered only when Options.APOP is
// set: the greeting then carries the challenge.
func cmdApop(ctx context.Context, c *conn, args string) error {
	if c.challenge == "" {
		c.errReply("APOP not enabled.")
		return nil
	}
	user, digest, ok := strings.Cut(args, " ")
	if !ok || len(digest) != 32 {
		c.errReply("Invalid parameters.")
		return nil
	}
	if _, err := hex.DecodeString(digest); err != nil {
		c.errReply("Invalid characters in MD5 response.")
		return nil
	}
	s, err := c.srv.opts.APOP(ctx, c.ci, user, c.challenge, strings.ToLower(digest))
	if err != nil {
		c.authFailed(user, err)
		return nil
	}
	return c.loggedIn(ctx, s)
}
