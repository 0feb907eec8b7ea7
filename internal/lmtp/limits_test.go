package lmtp

import (
	"context"
	"testing"

	"roost/internal/delivery"
)

// TestUserConcurrencyLimit: with lmtp_user_concurrency_limit = 1 a user
// in a transaction in flight is refused at RCPT with Dovecot's reply (on
// the same connection too), and a slot comes back when its recipient's
// delivery ends or the transaction is reset.
func TestUserConcurrencyLimit(t *testing.T) {
	t.Parallel()
	fd := &fakeDelivery{}
	a := start(t, fd, func(o *Options) { o.UserConcurrencyLimit = 1 })
	b := a.dialAgain(t)
	a.send("LHLO a\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<bob>\r\n")
	a.expect("250 ")
	a.expect("250 2.1.0")
	a.expect("250 2.1.5")
	a.send("RCPT TO:<bob+x>\r\n")
	a.expect("451 4.3.0 <bob+x> Too many concurrent deliveries for user")
	b.send("LHLO b\r\nMAIL FROM:<s@x.example>\r\nRCPT TO:<bob>\r\nRCPT TO:<alice>\r\n")
	b.expect("250 ")
	b.expect("250 2.1.0")
	b.expect("451 4.3.0 <bob> Too many concurrent deliveries for user")
	b.expect("250 2.1.5")
	a.send("DATA\r\n")
	a.expect("354")
	a.send("Subject: x\r\n\r\nx\r\n.\r\n")
	a.expect("250 2.0.0 <bob> SESSION Saved")
	b.send("RCPT TO:<bob>\r\n")
	b.expect("250 2.1.5")
	a.send("MAIL FROM:<>\r\nRCPT TO:<alice>\r\n")
	a.expect("250 2.1.0")
	a.expect("451 4.3.0 <alice> Too many concurrent deliveries for user")
	b.send("RSET\r\n")
	b.expect("250 2.0.0")
	a.send("RCPT TO:<alice>\r\nRCPT TO:<bob>\r\nQUIT\r\n")
	a.expect("250 2.1.5")
	a.expect("250 2.1.5")
	a.expect("221")
}

// quotaDelivery answers lmtp_rcpt_check_quota: bob is over quota.
type quotaDelivery struct {
	fakeDelivery
	checked []string
}

func (q *quotaDelivery) CheckQuota(_ context.Context, r delivery.Recipient) delivery.Result {
	q.checked = append(q.checked, r.Address)
	if r.Account.User == "bob" {
		return delivery.Result{Code: 552, Enhanced: "5.2.2", Text: "Quota exceeded (mailbox for user is full)"}
	}
	return delivery.Result{Code: 250, Enhanced: "2.1.5", Text: "OK"}
}

// TestRcptCheckQuota: the hook is asked at RCPT only with
// lmtp_rcpt_check_quota, and its refusal is the RCPT reply.
func TestRcptCheckQuota(t *testing.T) {
	t.Parallel()
	for _, check := range []bool{false, true} {
		q := &quotaDelivery{}
		c := start(t, nil, func(o *Options) { o.Delivery, o.RcptCheckQuota = q, check })
		c.send("LHLO a\r\nMAIL FROM:<>\r\nRCPT TO:<bob>\r\nRCPT TO:<alice>\r\nQUIT\r\n")
		c.expect("250 ")
		c.expect("250 2.1.0")
		if check {
			c.expect("552 5.2.2 <bob> Quota exceeded (mailbox for user is full)")
		} else {
			c.expect("250 2.1.5")
		}
		c.expect("250 2.1.5")
		c.expect("221")
		if got := len(q.checked); (got == 2) != check {
			t.Errorf("lmtp_rcpt_check_quota=%v: %d checks", check, got)
		}
	}
}
