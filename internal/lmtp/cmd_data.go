package lmtp

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"roost/internal/delivery"
	"roost/internal/smtp"
)

// cmdDATA receives the message (RFC 2033 section 4.2) and answers once per
// accepted recipient.
func (c *conn) cmdDATA(args string) {
	switch {
	case c.tx == nil:
		c.fail(smtp.R(503, "5.5.0", "MAIL needed first"))
		return
	case c.tx.bdat:
		c.fail(smtp.R(503, "5.5.0", "DATA cannot be used with BDAT"))
		return
	case len(c.tx.rcpts) == 0:
		c.fail(smtp.R(503, "5.5.0", "No valid recipients"))
		return
	case args != "":
		c.fail(smtp.R(501, "5.5.4", "Invalid parameters"))
		return
	}
	c.reply(smtp.R(354, "", "OK"))
	if err := c.w.Flush(); err != nil {
		c.quit = true
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
	n, err := c.r.ReadData(c.tx.spool, c.s.opts.MaxMessageSize)
	c.tx.written = n
	switch {
	case errors.Is(err, smtp.ErrTooBig):
		c.tx.tooBig = true
	case errors.As(err, new(*smtp.WriteError)):
		c.tx.werr = err
	case err != nil:
		// The client went away or stalled mid-message: nothing was
		// delivered and no reply claims otherwise; the sender retries.
		c.log.Infof("Disconnect from %s: %v (state=DATA)", remoteName(c.nc), err)
		c.quit = true
		return
	}
	c.finish()
}

// cmdBDAT receives one chunk (RFC 3030 section 2); the LAST chunk ends
// the message.
func (c *conn) cmdBDAT(args string) {
	size, last, ok := parseBDAT(args)
	if !ok {
		// The chunk's length is unknown: the stream cannot be resynced.
		c.fail(smtp.R(501, "5.5.4", "Invalid BDAT parameters"))
		c.quit = true
		return
	}
	if r, ok := c.bdatRefusal(); !ok {
		if _, err := c.r.ReadChunk(io.Discard, size, 0, 0); err != nil {
			c.quit = true
			return
		}
		if c.tx != nil {
			c.tx.failed = true
		}
		c.fail(r)
		return
	}
	tx := c.tx
	tx.bdat = true
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
	n, err := c.r.ReadChunk(tx.spool, size, tx.written, c.s.opts.MaxMessageSize)
	tx.written += n
	switch {
	case errors.Is(err, smtp.ErrTooBig):
		tx.tooBig = true
	case errors.As(err, new(*smtp.WriteError)):
		tx.werr = err
	case err != nil:
		c.log.Infof("Disconnect from %s: %v (state=BDAT)", remoteName(c.nc), err)
		c.quit = true
		return
	}
	if !last {
		c.ok(smtp.R(250, "2.0.0", "Added "+strconv.FormatInt(size, 10)+" octets"))
		return
	}
	c.finish()
}

func (c *conn) bdatRefusal() (smtp.Reply, bool) {
	switch {
	case c.tx == nil:
		return smtp.R(503, "5.5.0", "MAIL needed first"), false
	case c.tx.failed:
		return smtp.R(503, "5.5.0", "Previous data chunk failed, issue RSET first"), false
	case len(c.tx.rcpts) == 0:
		return smtp.R(503, "5.5.0", "No valid recipients"), false
	}
	return smtp.Reply{}, true
}

func parseBDAT(args string) (int64, bool, bool) {
	f := strings.Fields(args)
	if len(f) < 1 || len(f) > 2 {
		return 0, false, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 {
		return 0, false, false
	}
	if len(f) == 2 {
		if !strings.EqualFold(f[1], "LAST") {
			return 0, false, false
		}
		return n, true, true
	}
	return n, false, true
}

// finish delivers the received message to each recipient and answers once
// per recipient, in RCPT order, each after that copy is durable
// (deliverAll).
func (c *conn) finish() {
	tx := c.tx
	defer c.reset()
	var all *smtp.Reply
	switch {
	case tx.tooBig:
		r := smtp.R(552, "5.2.3", textTooBig)
		all = &r
	case tx.werr != nil:
		c.log.Errorf("receive message: %v", tx.werr)
		r := smtp.R(451, "4.3.0", "Temporary internal error")
		all = &r
	}
	env := delivery.Envelope{Sender: tx.sender, CanRefuse: true} // a Sieve ereject is refused in the reply
	if all != nil {
		for _, rc := range tx.rcpts {
			c.reply(smtp.R(all.Code, all.Enhanced, "<"+rc.r.Address+"> "+all.Lines[0]))
		}
	} else {
		c.deliverAll(env, tx)
	}
	c.bad = 0
}

// trace is the header block Dovecot's LMTP adds for one recipient.
func (c *conn) trace(tx *transaction, rc *rcpt) delivery.Trace {
	t := delivery.Trace{ReturnPath: true, Sender: tx.sender,
		OriginalRecipientHeader: c.s.opts.OriginalRecipientHeader, OriginalRecipient: rc.r.Original}
	if t.OriginalRecipient == "" {
		t.OriginalRecipient = rc.r.Address
	}
	one := len(tx.rcpts) == 1
	if one {
		switch c.s.opts.DeliveryAddress {
		case "final":
			t.DeliveredTo = rc.r.Address
		case "original":
			t.DeliveredTo = t.OriginalRecipient
		}
	}
	if c.s.opts.AddReceivedHeader {
		rh := &delivery.Received{Helo: c.helo, RemoteIP: c.remoteIP, Hostname: c.s.opts.Hostname,
			SessionID: tx.id, Time: c.s.opts.Now()}
		if one {
			rh.For = rc.r.Address
		}
		t.Received = rh
	}
	return t
}
