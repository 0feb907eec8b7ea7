package pop3server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"roost/internal/connset"
	"roost/internal/logging"
	"roost/internal/login"
	"roost/internal/storage"
)

// Defaults and limits, as Dovecot 2.3 has them.
const (
	DefaultGreeting       = "Dovecot ready."
	DefaultUIDLFormat     = "%08Xu%08Xv"
	DefaultLogoutFormat   = "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s"
	DefaultLoginTimeout   = time.Minute      // pop3-login inactivity
	DefaultAutologout     = 10 * time.Minute // pop3's CLIENT_IDLE_TIMEOUT_MSECS
	MaxLoginLineLength    = 4096             // pop3-login input buffer
	MaxLineLength         = 2048             // pop3's MAX_INBUF_SIZE
	MaxLoginBadCommands   = 3                // login-common's limit
	MaxBadCommands        = 20               // pop3's CLIENT_MAX_BAD_COMMANDS
	DeleteExpunge         = "expunge"
	DeleteFlag            = "flag"
	internalErrorText     = "Internal error occurred. Refer to server log for more information."
	defaultUIDLDuplicates = "allow"
	uidlDuplicatesRename  = "rename"
)

// Authenticator is the pre-auth policy and credential check; *login.Service
// implements it.
type Authenticator interface {
	PlaintextAllowed(ci login.ConnInfo) bool
	Mechanisms(ci login.ConnInfo) []string
	Login(ctx context.Context, ci login.ConnInfo, user, pass string) (*login.Session, error)
	Begin(ctx context.Context, ci login.ConnInfo, mech string) (*login.Exchange, error)
}

// APOPFunc checks an APOP digest (RFC 1939 section 7): digest is the
// client's MD5 of challenge+password in lower-case hex.
type APOPFunc func(ctx context.Context, ci login.ConnInfo, user, challenge, digest string) (*login.Session, error)

// Options configures a Server. The zero value of every optional field means
// Dovecot's default.
type Options struct {
	// Auth checks credentials. Required.
	Auth Authenticator
	// OpenUser opens the mail store of a logged-in user. Required.
	OpenUser func(ctx context.Context, s *login.Session) (storage.User, error)
	// APOP enables the APOP command and the greeting's challenge; nil
	// disables it.
	APOP APOPFunc
	// TLS enables STLS; nil means no STLS.
	TLS *tls.Config
	// ImplicitTLS makes Serve wrap every connection in TLS (pop3s).
	ImplicitTLS bool
	// Logger receives Dovecot-shaped lines; nil discards them.
	Logger *logging.Logger

	Greeting       string // login_greeting
	UIDLFormat     string // pop3_uidl_format
	ReuseXUIDL     bool   // pop3_reuse_xuidl
	SaveUIDL       bool   // pop3_save_uidl
	UIDLDuplicates string // pop3_uidl_duplicates: "allow" or "rename"
	LockSession    bool   // pop3_lock_session
	NoFlagUpdates  bool   // pop3_no_flag_updates
	DeletedFlag    string // pop3_deleted_flag
	DeleteType     string // pop3_delete_type, resolved: "expunge" or "flag"
	LogoutFormat   string // pop3_logout_format
	EnableLast     bool   // pop3_enable_last

	LoginTimeout time.Duration // pre-login inactivity limit
	Autologout   time.Duration // post-login inactivity limit

	// Now is the clock for timestamps in replies. Default time.Now.
	Now func() time.Time
	// Rand is the source of session IDs and APOP challenges.
	Rand *rand.Rand
}

// Server is a POP3 server. Its methods are safe for concurrent use.
type Server struct {
	opts  Options
	log   *logging.Logger
	table map[stateKey]commandSpec
	conns *connset.Set[*conn] // listeners and live connections
	rand  *connset.Random     // draws from opts.Rand

	mu     sync.Mutex      // guards following
	locked map[string]bool // users holding a pop3_lock_session lock
}

// New validates opts and returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Auth == nil {
		return nil, errors.New("pop3server: Options.Auth is required")
	}
	if opts.OpenUser == nil {
		return nil, errors.New("pop3server: Options.OpenUser is required")
	}
	if opts.ImplicitTLS && opts.TLS == nil {
		return nil, errors.New("pop3server: ImplicitTLS needs Options.TLS")
	}
	setDefaults(&opts)
	if err := validate(&opts); err != nil {
		return nil, err
	}
	return &Server{opts: opts, log: opts.Logger, table: commandTable(),
		conns: connset.New[*conn]("pop3server", ErrServerClosed), rand: connset.NewRandom(opts.Rand),
		locked: map[string]bool{}}, nil
}

func setDefaults(o *Options) {
	if o.Greeting == "" {
		o.Greeting = DefaultGreeting
	}
	if o.UIDLFormat == "" {
		o.UIDLFormat = DefaultUIDLFormat
	}
	if o.UIDLDuplicates == "" {
		o.UIDLDuplicates = defaultUIDLDuplicates
	}
	if o.LogoutFormat == "" {
		o.LogoutFormat = DefaultLogoutFormat
	}
	if o.DeleteType == "" || o.DeleteType == "default" {
		o.DeleteType = DeleteExpunge
		if o.DeletedFlag != "" {
			o.DeleteType = DeleteFlag
		}
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
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if o.Logger == nil {
		o.Logger = logging.NewWriter(io.Discard, false)
	}
}

func validate(o *Options) error {
	if uidlKeys(o.UIDLFormat) == 0 {
		return fmt.Errorf("pop3server: invalid pop3_uidl_format %q", o.UIDLFormat)
	}
	switch o.DeleteType {
	case DeleteExpunge:
	case DeleteFlag:
		if o.DeletedFlag == "" {
			return errors.New("pop3server: pop3_delete_type=flag, but pop3_deleted_flag not set")
		}
	default:
		return fmt.Errorf("pop3server: unknown pop3_delete_type %q", o.DeleteType)
	}
	if o.UIDLDuplicates != defaultUIDLDuplicates && o.UIDLDuplicates != uidlDuplicatesRename {
		return fmt.Errorf("pop3server: unknown pop3_uidl_duplicates %q", o.UIDLDuplicates)
	}
	return nil
}

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("pop3server: server closed")

// Serve accepts connections on l until Shutdown or Close, serving each in
// its own goroutine.
func (s *Server) Serve(l net.Listener) error { return s.conns.Serve(l, s.ServeConn) }

// ServeConn serves one already-accepted connection in a new goroutine. The
// Server owns nc from then on.
func (s *Server) ServeConn(nc net.Conn) { s.conns.Go(s.newConn(nc)) }

// Shutdown stops accepting connections, asks every session to finish its
// command in flight and say "-ERR [SYS/TEMP] Server shutting down.", and
// waits for them until ctx ends; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error { return s.conns.Shutdown(ctx) }

// Close closes every listener and connection at once and waits for the
// connection goroutines to end.
func (s *Server) Close() error { return s.conns.Close() }

// lockUser takes the in-process pop3_lock_session lock of user.
func (s *Server) lockUser(user string) (unlock func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.locked[user] {
		return nil, false
	}
	s.locked[user] = true
	return func() {
		s.mu.Lock()
		delete(s.locked, user)
		s.mu.Unlock()
	}, true
}

// apopChallenge returns a greeting challenge "<random.pid.time@host>"
// shaped as Dovecot's.
func (s *Server) apopChallenge(pid int) string {
	r := s.rand.String(16, "0123456789abcdef")
	return fmt.Sprintf("<%s.%d.%d@roost>", r, pid, s.opts.Now().Unix())
}
