// Package connset implements the connection lifecycle that the protocol
// servers (imapserver, pop3server, lmtp, managesieve) share: the accept
// loop, the set of live connections, a graceful Shutdown that asks each
// connection to finish its command in flight and say its own goodbye, and
// a Close that ends everything at once. What a connection says and logs
// stays with its protocol; this package only tracks and waits.
//
// Lock order: Set.mu is taken alone; a Conn's Shutdown and Close run
// without it held.
package connset

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// Conn is one served connection as the Set sees it.
type Conn interface {
	comparable
	// Serve runs the connection until it ends; the Set calls it on the
	// connection's own goroutine.
	Serve()
	// Shutdown asks the connection to end after its command in flight
	// (the protocol's BYE); it must not block.
	Shutdown()
	// Close closes the network connection at once.
	Close() error
}

// Set tracks a server's listeners and live connections. Its methods are
// safe for concurrent use.
type Set[C Conn] struct {
	name      string // error prefix: the server's package name
	errClosed error  // Serve's result after Shutdown or Close

	ctx    context.Context // ended by Close, or when Shutdown finishes
	cancel context.CancelFunc

	mu        sync.Mutex // guards following
	listeners map[net.Listener]struct{}
	conns     map[C]struct{}
	closing   bool

	wg sync.WaitGroup // one per connection goroutine
}

// New returns an empty Set. name prefixes accept errors ("imapserver:
// accept: ..."); errClosed is what Serve returns once the Set is closing.
func New[C Conn](name string, errClosed error) *Set[C] {
	ctx, cancel := context.WithCancel(context.Background())
	return &Set[C]{name: name, errClosed: errClosed, ctx: ctx, cancel: cancel,
		listeners: map[net.Listener]struct{}{}, conns: map[C]struct{}{}}
}

// Context is the server's context: connections derive theirs from it. It
// ends on Close and when Shutdown has seen every connection end.
func (s *Set[C]) Context() context.Context { return s.ctx }

// Serve accepts connections on l until Shutdown or Close, handing each to
// serveConn (the server's ServeConn, which calls Go). A temporary accept
// timeout is retried.
func (s *Set[C]) Serve(l net.Listener, serveConn func(net.Conn)) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return s.errClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.Closing() {
				return s.errClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("%s: accept: %w", s.name, err)
		}
		serveConn(nc)
	}
}

// Go serves c on a new goroutine and tracks it until Serve returns. When
// the Set is already closing, c is closed instead.
func (s *Set[C]) Go(c C) {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer s.forget(c)
		c.Serve()
	}()
}

func (s *Set[C]) forget(c C) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Closing reports whether Shutdown or Close has begun.
func (s *Set[C]) Closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// Len is the number of live connections.
func (s *Set[C]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// stopListening closes the listeners, marks the Set closing and returns
// the live connections.
func (s *Set[C]) stopListening() []C {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	conns := make([]C, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// Shutdown stops accepting, asks every connection to end after its
// command in flight, and waits for them until ctx ends; then it closes
// what is left and returns ctx's error.
func (s *Set[C]) Shutdown(ctx context.Context) error {
	for _, c := range s.stopListening() {
		c.Shutdown()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.Close()
		<-done
		return ctx.Err()
	}
}

// Close closes every listener and connection at once and waits for the
// connection goroutines to end.
func (s *Set[C]) Close() error {
	conns := s.stopListening()
	s.cancel()
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
	return nil
}

// AddrPort is a's address and port, or the zero AddrPort when a is not
// TCP (a pipe in tests, a Unix socket).
func AddrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	return netip.AddrPort{}
}

// Handshake runs a TLS server handshake on nc, bounded by ctx and by
// timeout (the protocol's login timeout), and returns the TLS connection.
func Handshake(ctx context.Context, nc net.Conn, cfg *tls.Config, timeout time.Duration) (*tls.Conn, error) {
	tc := tls.Server(nc, cfg)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// IsTimeout reports whether err is a passed read or write deadline.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded)
}

// Random draws strings from a server's injected random source (Options.
// Rand), so that session IDs are deterministic under test.
type Random struct {
	mu sync.Mutex // guards r
	r  *rand.Rand
}

// NewRandom returns a Random drawing from r.
func NewRandom(r *rand.Rand) *Random { return &Random{r: r} }

// String returns n characters of alphabet.
func (r *Random) String(n int, alphabet string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.r.IntN(len(alphabet))]
	}
	return string(b)
}

// SessionID returns a Dovecot-shaped session id: 16 characters of the
// base64 alphabet.
func (r *Random) SessionID() string {
	return r.String(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
