package lmtp

import (
	"strconv"
	"strings"

	"roost/internal/smtp"
)

// cmdLHLO answers the capability list (RFC 2033 section 4.1). A second
// LHLO resets the transaction, as EHLO does.
func (c *conn) cmdLHLO(args string) {
	name := strings.TrimSpace(args)
	if name == "" {
		c.fail(smtp.R(501, "5.5.4", "Missing hostname"))
		return
	}
	c.reset()
	c.helo = name
	// In alphabetical order, as Dovecot's smtp-server lists them.
	lines := []string{c.s.opts.Hostname, "8BITMIME", "CHUNKING", "ENHANCEDSTATUSCODES", "PIPELINING"}
	if max := c.s.opts.MaxMessageSize; max > 0 {
		lines = append(lines, "SIZE "+strconv.FormatInt(max, 10))
	} else {
		lines = append(lines, "SIZE")
	}
	if c.s.opts.TLS != nil && !c.tls {
		lines = append(lines, "STARTTLS")
	}
	c.ok(smtp.Reply{Code: 250, Lines: lines})
}
