package lmtp

import (
	"errors"
	"strconv"
	"strings"

	"roost/internal/delivery"
	"roost/internal/smtp"
)

// cmdMAIL starts a transaction. Parameters: BODY=7BIT|8BITMIME (RFC 6152)
// and SIZE (RFC 1870); anything else is 555 as in Dovecot.
func (c *conn) cmdMAIL(args string) {
	if c.tx != nil {
		c.fail(smtp.R(503, "5.5.0", "MAIL already given"))
		return
	}
	addr, params, err := smtp.ParseMail(args)
	if err != nil {
		c.fail(pathError("FROM", err))
		return
	}
	for _, p := range params {
		if r, ok := c.mailParam(p); !ok {
			c.fail(r)
			return
		}
	}
	// Transaction ids as Dovecot's: the session id, then ":T2", ":T3"...
	if c.sessionID == "" {
		c.sessionID = c.s.opts.NewSessionID()
	}
	c.txCount++
	id := c.sessionID
	if c.txCount > 1 {
		id += ":T" + strconv.Itoa(c.txCount)
	}
	c.tx = &transaction{sender: addr.String(), id: id, spool: delivery.NewSpool(c.s.opts.SpoolDir, 0)}
	c.ok(smtp.R(250, "2.1.0", "OK"))
}

func (c *conn) mailParam(p smtp.Param) (smtp.Reply, bool) {
	switch p.Key {
	case "BODY":
		v := strings.ToUpper(p.Value)
		if v == "7BIT" || v == "8BITMIME" {
			return smtp.Reply{}, true
		}
	case "SIZE":
		n, err := strconv.ParseInt(p.Value, 10, 64)
		if err != nil || n < 0 {
			return smtp.R(501, "5.5.4", "Invalid SIZE parameter"), false
		}
		if max := c.s.opts.MaxMessageSize; max > 0 && n > max {
			return smtp.R(552, "5.2.3", "Message size exceeds administrative limit"), false
		}
		return smtp.Reply{}, true
	}
	return smtp.R(555, "5.5.4", "Unsupported parameters"), false
}

// textTooBig answers a message over MaxMessageSize, with the quota
// plugin's text (quota_max_mail_size).
const textTooBig = "Mail size is larger than the maximum size allowed by server configuration"

func pathError(what string, err error) smtp.Reply {
	var pe *smtp.PathError
	if errors.As(err, &pe) {
		if pe.Msg == "Invalid parameters" {
			return smtp.R(501, "5.5.4", "Invalid parameters")
		}
		return smtp.R(501, "5.5.4", "Invalid "+what+": "+pe.Msg)
	}
	return smtp.R(501, "5.5.4", "Invalid parameters")
}
