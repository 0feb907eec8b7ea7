package connset

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"testing"
)

var errClosed = errors.New("test: server closed")

// echoConn answers "bye" to a shutdown request, or ends when closed.
type echoConn struct {
	nc   net.Conn
	stop chan struct{}
}

func newEchoConn(nc net.Conn) *echoConn { return &echoConn{nc: nc, stop: make(chan struct{}, 1)} }

func (c *echoConn) Serve() {
	defer c.nc.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-c.stop:
			c.nc.Write([]byte("bye\n"))
			c.nc.Close()
		case <-done:
		}
	}()
	buf := make([]byte, 1)
	for {
		if _, err := c.nc.Read(buf); err != nil {
			return
		}
	}
}

func (c *echoConn) Shutdown()    { c.stop <- struct{}{} }
func (c *echoConn) Close() error { return c.nc.Close() }

func TestShutdownSaysBye(t *testing.T) {
	t.Parallel()
	s := New[*echoConn]("test", errClosed)
	cli, srv := net.Pipe()
	defer cli.Close()
	s.Go(newEchoConn(srv))
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, 4)
		n, _ := cli.Read(buf)
		got <- string(buf[:n])
	}()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != "bye\n" {
		t.Errorf("client read %q, want bye", g)
	}
	if s.Len() != 0 || s.Context().Err() == nil {
		t.Errorf("after Shutdown: Len %d, context %v", s.Len(), s.Context().Err())
	}
}

func TestShutdownGraceEndsWithClose(t *testing.T) {
	t.Parallel()
	s := New[*stubbornConn]("test", errClosed)
	cli, srv := net.Pipe()
	defer cli.Close()
	s.Go(&stubbornConn{nc: srv})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want context.Canceled", err)
	}
	if s.Len() != 0 {
		t.Errorf("Len = %d after Shutdown", s.Len())
	}
}

// stubbornConn ignores Shutdown: only Close ends it.
type stubbornConn struct{ nc net.Conn }

func (c *stubbornConn) Serve() {
	buf := make([]byte, 1)
	for {
		if _, err := c.nc.Read(buf); err != nil {
			return
		}
	}
}
func (c *stubbornConn) Shutdown()    {}
func (c *stubbornConn) Close() error { return c.nc.Close() }

func TestServeAfterClose(t *testing.T) {
	t.Parallel()
	s := New[*echoConn]("test", errClosed)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l, func(nc net.Conn) { s.Go(newEchoConn(nc)) }) }()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	s.Close()
	if err := <-done; !errors.Is(err, errClosed) {
		t.Fatalf("Serve = %v, want errClosed", err)
	}
	if err := s.Serve(l, nil); !errors.Is(err, errClosed) {
		t.Fatalf("Serve after Close = %v", err)
	}
	_, srv := net.Pipe()
	s.Go(newEchoConn(srv)) // closed at once, not served
	if s.Len() != 0 {
		t.Errorf("Len = %d after Close", s.Len())
	}
}

func TestAddrPort(t *testing.T) {
	t.Parallel()
	a := &net.TCPAddr{IP: net.IP{127, 0, 0, 1}, Port: 143}
	if got := AddrPort(a).String(); got != "127.0.0.1:143" {
		t.Errorf("AddrPort = %s", got)
	}
	if AddrPort(&net.UnixAddr{Name: "x"}).IsValid() {
		t.Error("AddrPort of a Unix address is valid")
	}
}

func TestSessionIDDeterministic(t *testing.T) {
	t.Parallel()
	a := NewRandom(rand.New(rand.NewPCG(1, 2))).SessionID()
	b := NewRandom(rand.New(rand.NewPCG(1, 2))).SessionID()
	if a != b || len(a) != 16 {
		t.Errorf("session ids %q, %q", a, b)
	}
}
