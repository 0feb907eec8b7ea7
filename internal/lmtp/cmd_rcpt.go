package lmtp

import (
	"strconv"
	"strings"

	"roost/internal/smtp"
)

// cmdRCPT looks the recipient up at once: 250, 550 5.1.1 for a user no
// userdb knows, 451 4.3.0 when the lookup fails (never "unknown" for an
// outage). Postfix's address verification sends RCPT then QUIT.
func (c *conn) cmdRCPT(args string) {
	if c.tx == nil {
		c.fail(smtp.R(503, "5.5.0", "MAIL needed first"))
		return
	}
	if c.tx.bdat {
		c.fail(smtp.R(503, "5.5.0", "RCPT not allowed after BDAT"))
		return
	}
	addr, params, err := smtp.ParseRcpt(args)
	if err != nil {
		c.fail(pathError("TO", err))
		return
	}
	orcpt := ""
	for _, p := range params {
		if p.Key != "ORCPT" {
			c.fail(smtp.R(555, "5.5.4", "Unsupported parameters"))
			return
		}
		orcpt = decodeORCPT(p.Value)
	}
	if len(c.tx.rcpts) >= c.s.opts.MaxRecipients {
		c.fail(smtp.R(452, "4.5.3", "Too many recipients"))
		return
	}
	c.tx.nRcpt++
	address := addr.String()
	r, res := c.s.opts.Delivery.Resolve(c.ctx, address)
	if !res.OK() {
		c.log.Infof("rcpt <%s>: %d %s %s", address, res.Code, res.Enhanced, res.Text)
		c.fail(smtp.R(res.Code, res.Enhanced, "<"+address+"> "+res.Text))
		return
	}
	r.Original = orcpt
	id := c.tx.id
	if c.tx.nRcpt > 1 {
		id += ":R" + strconv.Itoa(c.tx.nRcpt)
	}
	c.tx.rcpts = append(c.tx.rcpts, &rcpt{r: r, id: id})
	c.ok(smtp.R(250, "2.1.5", "OK"))
}

// decodeORCPT reads "rfc822;addr" with xtext (RFC 3461 section 4.2).
func decodeORCPT(v string) string {
	_, addr, ok := strings.Cut(v, ";")
	if !ok {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(addr); i++ {
		if addr[i] == '+' && i+2 < len(addr) {
			if n, err := strconv.ParseUint(addr[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(addr[i])
	}
	return b.String()
}
