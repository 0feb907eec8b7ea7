package lmtp

import (
	"runtime/debug"

	"roost/internal/delivery"
	"roost/internal/smtp"
)

// deliverConcurrency bounds how many recipients of one transaction are
// delivered at once. Deliveries wait mostly on fsync, so several in
// flight share the disk's flushes instead of queueing behind each other.
const deliverConcurrency = 16

// deliverAll delivers the message to every recipient and writes one reply
// per recipient in RCPT order, each only after that recipient's copy is
// durable. Different users are delivered concurrently; one user's
// recipients are delivered one after another, in RCPT order. Replies
// already due are flushed before waiting for the next one.
func (c *conn) deliverAll(env delivery.Envelope, tx *transaction) {
	replies := make([]chan smtp.Reply, len(tx.rcpts))
	for i := range replies {
		replies[i] = make(chan smtp.Reply, 1)
	}
	sem := make(chan struct{}, deliverConcurrency)
	for _, group := range groupByUser(tx.rcpts) {
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			for _, i := range group {
				replies[i] <- c.deliverOne(env, tx, tx.rcpts[i])
			}
		}()
	}
	for _, ch := range replies {
		var r smtp.Reply
		select {
		case r = <-ch:
		default:
			c.w.Flush() // the client sees what is done while the rest is saved
			r = <-ch
		}
		c.reply(r)
	}
	c.w.Flush()
}

// deliverOne delivers to one recipient and returns its reply.
func (c *conn) deliverOne(env delivery.Envelope, tx *transaction, rc *rcpt) (r smtp.Reply) {
	addr := "<" + rc.r.Address + ">"
	defer rc.done()
	defer func() {
		if v := recover(); v != nil {
			c.log.Errorf("panic: %v\n%s", v, debug.Stack())
			r = smtp.R(451, "4.3.0", addr+" Temporary internal error")
		}
	}()
	res := c.s.opts.Delivery.Deliver(c.ctx, env, rc.r, c.trace(tx, rc), tx.spool)
	if res.OK() {
		return smtp.R(250, "2.0.0", addr+" "+rc.id+" Saved")
	}
	return smtp.R(res.Code, res.Enhanced, addr+" "+res.Text)
}

// groupByUser splits the recipients' indexes by user, each group in RCPT
// order, the groups in the order of their first recipient.
func groupByUser(rcpts []*rcpt) [][]int {
	at := map[string]int{}
	var groups [][]int
	for i, rc := range rcpts {
		g, ok := at[rc.r.Account.User]
		if !ok {
			g = len(groups)
			at[rc.r.Account.User] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	return groups
}
