package managesieve

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"roost/internal/connset"
	"roost/internal/logging"
	"roost/internal/login"
	"roost/internal/sieve"
	"roost/internal/sievestore"
)

// Defaults as Debian's Dovecot 2.3 answers.
const (
	DefaultImplementation = "Dovecot (Debian) Pigeonhole"
	DefaultGreeting       = "Dovecot (Debian) ready."
	DefaultLoginTimeout   = time.Minute
	DefaultAutologout     = 30 * time.Minute
	maxLoginBadCommands   = 3
	maxBadCommands        = 20
	internalErrorText     = "Internal error occurred. Refer to server log for more information."
)

// Authenticator is the pre-auth policy and SASL exchange; *login.Service
// implements it.
type Authenticator interface {
	Mechanisms(ci login.ConnInfo) []string
	Begin(ctx context.Context, ci login.ConnInfo, mech string) (*login.Exchange, error)
}

// Store is one user's script storage; *sievestore.Store implements it.
// Errors carry a sievestore.Kind for the response code.
type Store interface {
	List() ([]sievestore.Script, error)
	Active() (string, error)
	Get(name string) ([]byte, error)
	Put(name string, data []byte) error
	CheckQuota(name string, size int64) error
	SetActive(name string) error
	Delete(name string) error
	Rename(from, to string) error
}

// Options configure a Server.
type Options struct {
	// Auth checks credentials. Required.
	Auth Authenticator
	// OpenStore opens a logged-in user's scripts. Required.
	OpenStore func(ctx context.Context, s *login.Session) (Store, error)
	// Compile checks a script before PUTSCRIPT stores it and for
	// CHECKSCRIPT; a *sieve.CompileError is reported to the client. nil
	// compiles with Pigeonhole's defaults.
	Compile func(ctx context.Context, s *login.Session, name string, src []byte) error
	// TLS enables STARTTLS; ImplicitTLS wraps every connection in TLS.
	TLS         *tls.Config
	ImplicitTLS bool
	Logger      *logging.Logger
	// Implementation is managesieve_implementation_string.
	Implementation string
	// SieveCapability and NotifyCapability override the SIEVE and NOTIFY
	// capabilities (managesieve_sieve_capability, _notify_capability).
	SieveCapability, NotifyCapability string
	// MaxCompileErrors is managesieve_max_compile_errors (0: 5).
	MaxCompileErrors int
	// MaxRedirects is advertised as MAXREDIRECTS after login (sieve_max_redirects; 0: 4).
	MaxRedirects int
	// MaxLineLength is managesieve_max_line_length.
	MaxLineLength int
	Greeting      string // login_greeting
	// LogoutFormat is managesieve_logout_format (%i, %o).
	LogoutFormat string
	LoginTimeout time.Duration
	Autologout   time.Duration
	Now          func() time.Time
}

// Server is a ManageSieve server.
type Server struct {
	opts  Options
	log   *logging.Logger
	conns *connset.Set[*conn] // listeners and live connections
}

// New validates opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil || opts.OpenStore == nil {
		return nil, errors.New("managesieve: Auth and OpenStore are required")
	}
	if opts.ImplicitTLS && opts.TLS == nil {
		return nil, errors.New("managesieve: implicit TLS without a TLS configuration")
	}
	setDefaults(&opts)
	return &Server{opts: opts, log: opts.Logger, conns: connset.New[*conn]("managesieve", ErrServerClosed)}, nil
}

func setDefaults(o *Options) {
	if o.Logger == nil {
		o.Logger = logging.NewWriter(io.Discard, false)
	}
	if o.Implementation == "" {
		o.Implementation = DefaultImplementation
	}
	if o.Greeting == "" {
		o.Greeting = DefaultGreeting
	}
	if o.MaxCompileErrors <= 0 {
		o.MaxCompileErrors = 5
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = sieve.MaxRedirects
	}
	if o.MaxLineLength <= 0 {
		o.MaxLineLength = DefaultMaxLineLength
	}
	if o.LogoutFormat == "" {
		o.LogoutFormat = "bytes=%i/%o"
	}
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = DefaultLoginTimeout
	}
	if o.Autologout <= 0 {
		o.Autologout = DefaultAutologout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Compile == nil {
		o.Compile = func(_ context.Context, _ *login.Session, name string, src []byte) error {
			_, err := sieve.Compile(name, src, sieve.Options{})
			return err
		}
	}
}

// sieveCapability is the SIEVE capability: the extensions a script may
// require, as Pigeonhole lists them.
func (s *Server) sieveCapability() string {
	if s.opts.SieveCapability != "" {
		return s.opts.SieveCapability
	}
	return strings.Join(sieve.Capabilities(), " ")
}

func (s *Server) notifyCapability() string {
	if s.opts.NotifyCapability != "" {
		return s.opts.NotifyCapability
	}
	return "mailto"
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("managesieve: server closed")

// Serve accepts connections on l until Shutdown or Close.
func (s *Server) Serve(l net.Listener) error { return s.conns.Serve(l, s.ServeConn) }

// ServeConn serves one accepted connection in a new goroutine.
func (s *Server) ServeConn(nc net.Conn) { s.conns.Go(s.newConn(nc)) }

// Shutdown stops accepting, tells every session BYE after its command in
// flight, and waits for them until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.conns.Shutdown(ctx) }

// Close closes every listener and connection and waits for them.
func (s *Server) Close() error { return s.conns.Close() }
