package lmtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"roost/internal/delivery"
	"roost/internal/logging"
)

// Deliverer is what the server needs of the delivery package
// (*delivery.Deliverer implements it).
type Deliverer interface {
	Resolve(ctx context.Context, address string) (delivery.Recipient, delivery.Result)
	Deliver(ctx context.Context, env delivery.Envelope, rcpt delivery.Recipient, trace delivery.Trace, msg delivery.Message) delivery.Result
}

// Limits of a session.
const (
	// DefaultMaxRecipients is the most recipients of one transaction.
	DefaultMaxRecipients = 1000
	// maxBadCommands closes a connection sending this many errors in a row.
	maxBadCommands = 20
	// DefaultIdleTimeout ends a silent connection.
	DefaultIdleTimeout = 5 * time.Minute
)

// Options configure a Server.
type Options struct {
	Delivery Deliverer
	// Hostname is the name in the greeting, the LHLO reply and the
	// Received header (hostname setting).
	Hostname string
	// TLS enables STARTTLS.
	TLS    *tls.Config
	Logger *logging.Logger
	// MaxLineLength of a command line; 0 is the smtp package's default.
	MaxLineLength int
	// MaxMessageSize is advertised with SIZE and enforced; 0: no limit.
	MaxMessageSize int64
	// MaxRecipients per transaction; 0 is DefaultMaxRecipients.
	MaxRecipients int
	// UserConcurrencyLimit is lmtp_user_concurrency_limit: at most this
	// many recipients of one user (after the userdb lookup) in deliveries
	// on this server at once, counted from RCPT until that recipient's
	// delivery ends; more answer 451 4.3.0 at RCPT. 0: no limit.
	UserConcurrencyLimit int
	// RcptCheckQuota checks the recipient's quota at RCPT
	// (lmtp_rcpt_check_quota) when Delivery implements QuotaChecker.
	RcptCheckQuota bool
	// AddReceivedHeader adds Received (lmtp_add_received_header).
	AddReceivedHeader bool
	// DeliveryAddress is lmtp_hdr_delivery_address: "final" (the RCPT
	// address), "original" (ORCPT) or "none". Delivered-To is added only
	// when the transaction has one recipient, as Dovecot 2.3 does.
	DeliveryAddress string
	// OriginalRecipientHeader is lda_original_recipient_header.
	OriginalRecipientHeader string
	// SpoolDir holds large messages while they are received (mail_temp_dir).
	SpoolDir    string
	IdleTimeout time.Duration
	// Now and NewSessionID make replies and headers deterministic in tests.
	Now          func() time.Time
	NewSessionID func() string
}

// Server is an LMTP server.
type Server struct {
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	slots userSlots // lmtp_user_concurrency_limit counters

	mu        sync.Mutex // guards following
	closing   bool
	conns     map[*conn]struct{}
	listeners map[net.Listener]struct{}
}

// QuotaChecker is what RcptCheckQuota needs of the delivery package
// (*delivery.Deliverer implements it).
type QuotaChecker interface {
	CheckQuota(ctx context.Context, rcpt delivery.Recipient) delivery.Result
}

// userSlots counts each user's recipients in deliveries in flight, for
// lmtp_user_concurrency_limit (Dovecot counts them in anvil).
type userSlots struct {
	mu sync.Mutex // guards n
	n  map[string]int
}

// acquire takes one of user's limit slots; release gives it back.
func (u *userSlots) acquire(user string, limit int) (release func(), ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n[user] >= limit {
		return nil, false
	}
	if u.n == nil {
		u.n = map[string]int{}
	}
	u.n[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			defer u.mu.Unlock()
			if u.n[user]--; u.n[user] <= 0 {
				delete(u.n, user)
			}
		})
	}, true
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("lmtp: server closed")

// New validates opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Delivery == nil {
		return nil, errors.New("lmtp: no Delivery")
	}
	if opts.Hostname == "" {
		return nil, errors.New("lmtp: no Hostname")
	}
	if opts.Logger == nil {
		opts.Logger = logging.NewWriter(io.Discard, false)
	}
	if opts.MaxRecipients <= 0 {
		opts.MaxRecipients = DefaultMaxRecipients
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.DeliveryAddress == "" {
		opts.DeliveryAddress = "final"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewSessionID == nil {
		opts.NewSessionID = newSessionID
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{opts: opts, ctx: ctx, cancel: cancel, conns: map[*conn]struct{}{}, listeners: map[net.Listener]struct{}{}}, nil
}

// newSessionID is a Dovecot-style id: 16 random bytes in unpadded base64.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

// Serve accepts connections on l until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("lmtp: accept: %w", err)
		}
		s.ServeConn(nc)
	}
}

// ServeConn serves one connection in a new goroutine.
func (s *Server) ServeConn(nc net.Conn) {
	c := newConn(s, nc)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		c.serve()
	}()
}

func (s *Server) stopListening() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for l := range s.listeners {
		l.Close()
	}
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Shutdown stops accepting, lets transactions in flight finish (an idle
// connection is closed at its next command boundary with 421) and waits
// for every connection, or until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, c := range s.stopListening() {
		c.shutdown()
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
// connection goroutines.
func (s *Server) Close() error {
	conns := s.stopListening()
	s.cancel()
	for _, c := range conns {
		c.nc.Close()
	}
	s.wg.Wait()
	return nil
}
