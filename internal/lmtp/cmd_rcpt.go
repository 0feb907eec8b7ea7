package lmtp

import (
	"strconv"
	"strings"

	"roost/internal/delivery"
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
	rc := &rcpt{r: r, id: id}
	if res, ok := c.admit(rc); !ok {
		c.log.Infof("rcpt <%s>: %d %s %s", address, res.Code, res.Enhanced, res.Text)
		c.fail(smtp.R(res.Code, res.Enhanced, "<"+address+"> "+res.Text))
		return
	}
	c.tx.rcpts = append(c.tx.rcpts, rc)
	c.ok(smtp.R(250, "2.1.5", "OK"))
}

// admit applies lmtp_user_concurrency_limit, then lmtp_rcpt_check_quota,
// in Dovecot's order, to a recipient the userdb knows.
func (c *conn) admit(rc *rcpt) (delivery.Result, bool) {
	if limit := c.s.opts.UserConcurrencyLimit; limit > 0 {
		release, ok := c.s.slots.acquire(rc.r.Account.User, limit)
		if !ok {
			return delivery.Result{Code: 451, Enhanced: "4.3.0", Text: "Too many concurrent deliveries for user"}, false
		}
		rc.release = release
	}
	if q, ok := c.s.opts.Delivery.(QuotaChecker); ok && c.s.opts.RcptCheckQuota {
		if res := q.CheckQuota(c.ctx, rc.r); !res.OK() {
			rc.done()
			return res, false
		}
	}
	return delivery.Result{}, true
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
