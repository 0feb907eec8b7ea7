package pop3server

import (
	"context"
)

// Reply texts of pop3-login (login-common's client-common.h).
const (
	textAuthFailed        = "Authentication failed."
	textPlaintextDisabled = "Plaintext authentication disallowed on non-secure (SSL/TLS) connections."
	textUnknownMech       = "Unsupported authentication mechanism."
	textAborted           = "Authentication aborted by client."
)

// cmdUser is USER (RFC 1939 section 7): the name is kept for PASS.
func cmdUser(_ context.Context, c *conn, args string) error {
	if !c.checkPlaintext() {
		return nil
	}
	name := args
	c.lastUser = &name
	c.ok("")
	return nil
}

// checkPlaintext refuses plaintext authentication where the policy does.
func (c *conn) checkPlaintext() bool {
	if c.srv.opts.Auth.PlaintextAllowed(c.ci) {
		return true
	}
	c.attempts++
	c.errReply("[AUTH] " + textPlaintextDisabled)
	return false
}

// cmdPass is PASS (RFC 1939 section 7).
func cmdPass(ctx context.Context, c *conn, args string) error {
	if c.lastUser == nil {
		if !c.checkPlaintext() {
			return nil
		}
		c.errReply("No username given.")
		return nil
	}
	user := *c.lastUser
	c.lastUser = nil
	s, err := c.srv.opts.Auth.Login(ctx, c.ci, user, args)
	if err != nil {
		c.authFailed(user, err)
		return nil
	}
	return c.loggedIn(ctx, s)
}
