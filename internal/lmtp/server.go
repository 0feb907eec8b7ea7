package lmtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"roost/internal/connset"
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
	opts  Options
	conns *connset.Set[*conn] // listeners and live connections
	slots userSlots           // lmtp_user_concurrency_limit counters
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
	return &Server{opts: opts, conns: connset.New[*conn]("lmtp", ErrServerClosed)}, nil
}

// newSessionID is a Dovecot-style id: 16 random bytes in unpadded base64.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

// Serve accepts connections on l until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error { return s.conns.Serve(l, s.ServeConn) }

// ServeConn serves one connection in a new goroutine.
func (s *Server) ServeConn(nc net.Conn) { s.conns.Go(newConn(s, nc)) }

// Shutdown stops accepting, lets transactions in flight finish (an idle
// connection is closed at its next command boundary with 421) and waits
// for every connection, or until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.conns.Shutdown(ctx) }

// Close closes every listener and connection at once and waits for the
// connection goroutines.
func (s *Server) Close() error { return s.conns.Close() }
