package pop3server

import (
	"context"
	"strings"
)

// capabilities are the CAPA lines valid in every state, in Dovecot's order
// (RFC 2449 section 5).
var capabilities = [...]string{"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"}

// cmdCapa is CAPA (RFC 2449 section 5). Before login it adds STLS, USER
// (when plaintext authentication is allowed) and SASL with the
// mechanisms; after login Dovecot's pop3 lists only the common lines.
func cmdCapa(_ context.Context, c *conn, _ string) error {
	c.ok("")
	for _, s := range capabilities {
		c.line(s)
	}
	if c.state == stateAuthorization {
		if c.srv.opts.TLS != nil && !c.ci.TLS {
			c.line("STLS")
		}
		if c.srv.opts.Auth.PlaintextAllowed(c.ci) {
			c.line("USER")
		}
		c.line(strings.TrimSpace("SASL " + strings.Join(c.srv.opts.Auth.Mechanisms(c.ci), " ")))
	}
	c.line(".")
	return nil
}
