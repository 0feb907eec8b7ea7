package lmtp

import "roost/internal/smtp"

func (c *conn) cmdRSET(string) {
	c.reset()
	c.ok(smtp.R(250, "2.0.0", "OK"))
}

func (c *conn) cmdNOOP(string) { c.ok(smtp.R(250, "2.0.0", "OK")) }

// cmdQUIT ends the session; after RCPT without DATA (Postfix's recipient
// verification) nothing is left behind.
func (c *conn) cmdQUIT(string) {
	c.reset()
	c.reply(smtp.R(221, "2.0.0", "Bye"))
	c.quit = true
}

func (c *conn) cmdVRFY(string) { c.ok(smtp.R(252, "2.3.3", "Try RCPT instead")) }

// cmdSTARTTLS upgrades the connection (RFC 3207); the session starts over
// and the client must send LHLO again.
func (c *conn) cmdSTARTTLS(args string) {
	switch {
	case c.s.opts.TLS == nil:
		c.fail(smtp.R(502, "5.5.1", "TLS not available"))
		return
	case c.tls:
		c.fail(smtp.R(503, "5.5.1", "TLS already active"))
		return
	case args != "":
		c.fail(smtp.R(501, "5.5.4", "Invalid parameters"))
		return
	case c.r.Buffered() > 0:
		// RFC 3207 section 5: no pipelining past STARTTLS (plaintext
		// injection).
		c.fail(smtp.R(503, "5.5.1", "Pipelining not allowed with STARTTLS"))
		c.quit = true
		return
	}
	c.reply(smtp.R(220, "2.0.0", "Begin TLS negotiation now."))
	if err := c.w.Flush(); err != nil {
		c.quit = true
		return
	}
	if err := c.startTLS(); err != nil {
		c.log.Infof("Disconnect from %s: TLS handshake: %v", remoteName(c.nc), err)
		c.quit = true
		return
	}
	c.reset()
	c.helo = ""
}
