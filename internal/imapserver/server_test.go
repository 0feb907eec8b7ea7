package imapserver

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestServeListener(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback listener: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- ts.srv.Serve(l) }()

	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	c := &tconn{t: t, nc: nc, br: bufio.NewReader(nc)}
	c.expect("* OK [CAPABILITY ")
	c.cmd("a LOGIN alice secret").ok()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect("* BYE Server shutting down.")
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve = %v", err)
	}
	if err := ts.srv.Serve(l); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown = %v", err)
	}
	ts.srv.Close()
	log := ts.log.String()
	if !strings.Contains(log, "Login: user=<alice>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1, mpid=") ||
		!strings.Contains(log, ", secured, session=<") || !strings.Contains(log, "Disconnected: Server shutting down in=") {
		t.Errorf("log:\n%s", log)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{}); err == nil {
		t.Error("New without Auth succeeded")
	}
	if _, err := New(Options{Auth: &testAuth{}}); err == nil {
		t.Error("New without OpenUser succeeded")
	}
	ts := newTestServer(t)
	if _, err := New(Options{Auth: &testAuth{}, OpenUser: ts.openUser, ImplicitTLS: true}); err == nil {
		t.Error("ImplicitTLS without TLS succeeded")
	}
}
