package managesieve

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

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
	opts   Options
	log    *logging.Logger
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex // guards following
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   bool
	wg        sync.WaitGroup
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
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{opts: opts, log: opts.Logger, ctx: ctx, cancel: cancel,
		listeners: map[net.Listener]struct{}{}, conns: map[*conn]struct{}{}}, nil
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
			delete(s.listeners, l)
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			return fmt.Errorf("managesieve: accept: %w", err)
		}
		s.ServeConn(nc)
	}
}

// ServeConn serves one accepted connection in a new goroutine.
func (s *Server) ServeConn(nc net.Conn) {
	c := s.newConn(nc)
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

// Shutdown stops accepting, tells every session BYE after its command in
// flight, and waits for them until ctx ends.
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

// Close closes every listener and connection and waits for them.
func (s *Server) Close() error {
	conns := s.stopListening()
	s.cancel()
	for _, c := range conns {
		c.raw.Close()
	}
	s.wg.Wait()
	return nil
}
