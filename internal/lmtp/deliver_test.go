package lmtp

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"roost/internal/delivery"
)

// orderDelivery holds alice's first delivery until bob's has started, and
// logs the order in which deliveries end.
type orderDelivery struct {
	fakeDelivery
	bobStarted chan struct{}
	once       sync.Once
	mu         sync.Mutex
	ended      []string
}

func (o *orderDelivery) Deliver(ctx context.Context, env delivery.Envelope, r delivery.Recipient, tr delivery.Trace, msg delivery.Message) delivery.Result {
	switch r.Address {
	case "bob":
		o.once.Do(func() { close(o.bobStarted) })
	case "alice":
		select {
		case <-o.bobStarted:
		case <-time.After(10 * time.Second): // a guard: deliveries ran one after another
			return delivery.Result{Code: 451, Enhanced: "4.3.0", Text: "bob was not delivered meanwhile"}
		}
	}
	res := o.fakeDelivery.Deliver(ctx, env, r, tr, msg)
	o.mu.Lock()
	o.ended = append(o.ended, r.Address)
	o.mu.Unlock()
	return res
}

// TestRecipientsConcurrent: different users' copies are delivered at the
// same time, one user's in RCPT order, and the replies come in RCPT order.
func TestRecipientsConcurrent(t *testing.T) {
	t.Parallel()
	od := &orderDelivery{bobStarted: make(chan struct{})}
	s, err := New(Options{Delivery: od, Hostname: "mail.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Serve(l); close(done) }()
	t.Cleanup(func() {
		s.Shutdown(context.Background())
		<-done
	})
	c := dial(t, l.Addr().String())
	c.send("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice>\r\nRCPT TO:<bob>\r\nRCPT TO:<alice+x>\r\nDATA\r\n")
	c.expect("250 SIZE")
	for range 4 {
		c.expect("250")
	}
	c.expect("354")
	c.send("Subject: hi\r\n\r\nbody\r\n.\r\n")
	c.expect("250 2.0.0 <alice> ")
	c.expect("250 2.0.0 <bob> ")
	c.expect("250 2.0.0 <alice+x> ")
	od.mu.Lock()
	defer od.mu.Unlock()
	if i, j := slices.Index(od.ended, "alice"), slices.Index(od.ended, "alice+x"); i < 0 || j < i {
		t.Errorf("deliveries ended in order %q; alice's two copies must keep RCPT order", od.ended)
	}
}
