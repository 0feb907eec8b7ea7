package imapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"roost/internal/connset"
	"roost/internal/imapwire"
	"roost/internal/logging"
	"roost/internal/storage"
)

// Defaults, as Dovecot 2.3 has them.
const (
	DefaultGreeting            = "Dovecot ready."
	DefaultMaxLineLength       = imapwire.DefaultMaxLineLength // imap_max_line_length
	DefaultMaxBadCommands      = 20                            // imap's CLIENT_MAX_BAD_COMMANDS
	DefaultMaxLoginBadCommands = 3                             // imap-login's limit
	DefaultLoginTimeout        = 3 * time.Minute               // pre-login inactivity
	DefaultAutologout          = 30 * time.Minute              // RFC 3501 section 5.4 minimum
	DefaultIdleNotifyInterval  = 2 * time.Minute               // imap_idle_notify_interval
	DefaultMaxAppendSize       = 1 << 30                       // largest APPEND literal
	DefaultWriteTimeout        = 5 * time.Minute               // a client that stops reading is dropped
)

// Options configures a Server. The zero value of every optional field
// means Dovecot's default.
type Options struct {
	// Auth checks credentials and decides pre-auth policy. Required.
	Auth Authenticator
	// OpenUser opens the mail store of a logged-in user. Required.
	OpenUser func(ctx context.Context, s *Session) (storage.User, error)
	// TLS enables STARTTLS, and is the configuration for ImplicitTLS;
	// nil means no STARTTLS.
	TLS *tls.Config
	// ImplicitTLS makes Serve wrap every connection in TLS (imaps).
	ImplicitTLS bool
	// Logger receives Dovecot-shaped lines; nil discards them.
	Logger *logging.Logger

	Greeting      string // login_greeting
	MaxLineLength int    // imap_max_line_length
	MaxAppendSize int64  // largest APPEND message
	// AppendLimit, when positive, is APPENDLIMIT (RFC 7889): the largest
	// message APPEND accepts (at most MaxAppendSize), advertised as
	// APPENDLIMIT=n and answered to STATUS (APPENDLIMIT). Dovecot
	// advertises it from the quota plugin's quota_max_mail_size.
	AppendLimit         int64
	MaxBadCommands      int           // disconnect after this many consecutive invalid commands once logged in
	MaxLoginBadCommands int           // ... and before login
	LoginTimeout        time.Duration // pre-login inactivity limit
	Autologout          time.Duration // post-login inactivity limit
	IdleNotifyInterval  time.Duration // imap_idle_notify_interval ("* OK Still here")
	WriteTimeout        time.Duration // longest a write may block on a client that does not read
	// MaxUserIPConnections is mail_max_userip_connections: the most
	// logged-in sessions one user may have from one remote IP; a login
	// past it is refused with NO [LIMIT]. 0 means Dovecot's default (10),
	// negative no limit (UserIPLimit converts the setting).
	MaxUserIPConnections int
	// UserIPCounter counts sessions for MaxUserIPConnections. Servers that
	// share one count together (the imap and imaps listeners of one
	// process); nil means the Server's own.
	UserIPCounter *UserIPCounter
	// LiteralMinus advertises LITERAL- instead of LITERAL+.
	LiteralMinus bool
	// ServerID is the ID response (RFC 2971); nil means
	// ("name" "Dovecot") as Dovecot's imap_id_send default.
	ServerID map[string]string

	// MailEvents, when set, is told of APPEND, COPY/MOVE and flag
	// changes (imapsieve, feature_imapsieve.go).
	MailEvents MailEvents
	// ImapsieveURL, when set, is advertised as IMAPSIEVE=<url> (RFC 6785
	// section 2.1; Pigeonhole's imapsieve_url).
	ImapsieveURL string

	// Now is the clock for timestamps (INTERNALDATE defaults, log
	// lines, SERVERBUG stamps). Timeouts use the time package so that
	// tests can use testing/synctest. Default time.Now.
	Now func() time.Time
	// Rand is the source of session IDs. Default: a random source.
	Rand *rand.Rand
}

// Server is an IMAP server. Its methods are safe for concurrent use.
type Server struct {
	opts   Options
	log    *logging.Logger
	userIP *UserIPCounter
	conns  *connset.Set[*conn] // listeners and live connections
	rand   *connset.Random     // draws from opts.Rand
}

// New validates opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil {
		return nil, errors.New("imapserver: Options.Auth is required")
	}
	if opts.OpenUser == nil {
		return nil, errors.New("imapserver: Options.OpenUser is required")
	}
	if opts.ImplicitTLS && opts.TLS == nil {
		return nil, errors.New("imapserver: ImplicitTLS needs Options.TLS")
	}
	setDefaults(&opts)
	s := &Server{opts: opts, log: opts.Logger, userIP: opts.UserIPCounter,
		conns: connset.New[*conn]("imapserver", ErrServerClosed), rand: connset.NewRandom(opts.Rand)}
	return s, nil
}

func setDefaults(o *Options) {
	if o.Greeting == "" {
		o.Greeting = DefaultGreeting
	}
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = DefaultMaxLineLength
	}
	if o.MaxAppendSize <= 0 {
		o.MaxAppendSize = DefaultMaxAppendSize
	}
	if o.AppendLimit > 0 && o.AppendLimit < o.MaxAppendSize {
		o.MaxAppendSize = o.AppendLimit
	}
	if o.MaxBadCommands <= 0 {
		o.MaxBadCommands = DefaultMaxBadCommands
	}
	if o.MaxLoginBadCommands <= 0 {
		o.MaxLoginBadCommands = DefaultMaxLoginBadCommands
	}
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = DefaultLoginTimeout
	}
	if o.Autologout <= 0 {
		o.Autologout = DefaultAutologout
	}
	if o.IdleNotifyInterval <= 0 {
		o.IdleNotifyInterval = DefaultIdleNotifyInterval
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxUserIPConnections == 0 {
		o.MaxUserIPConnections = DefaultMaxUserIPConnections
	}
	if o.UserIPCounter == nil {
		o.UserIPCounter = NewUserIPCounter()
	}
	if o.ServerID == nil {
		o.ServerID = map[string]string{"name": "Dovecot"}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if o.Logger == nil {
		o.Logger = logging.NewWriter(io.Discard, false)
	}
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("imapserver: server closed")

// Serve accepts connections on l until Shutdown or Close, serving each
// in its own goroutine.
func (s *Server) Serve(l net.Listener) error { return s.conns.Serve(l, s.ServeConn) }

// ServeConn serves one already-accepted connection in a new goroutine.
// The Server owns nc from then on.
func (s *Server) ServeConn(nc net.Conn) { s.conns.Go(s.newConn(nc)) }

// Shutdown stops accepting connections, asks every session to finish its
// command in flight and say "* BYE Server shutting down.", and waits for
// them until ctx ends; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error { return s.conns.Shutdown(ctx) }

// Close closes every listener and connection at once and waits for the
// connection goroutines to end.
func (s *Server) Close() error { return s.conns.Close() }
