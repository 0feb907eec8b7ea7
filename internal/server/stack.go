package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"roost/internal/auth"
	"roost/internal/imapserver"
	"roost/internal/logging"
	"roost/internal/login"
	"roost/internal/maildir"
	"roost/internal/service"
	"roost/internal/settings"
	"roost/internal/storage"
)

// connServer is a protocol server the accept loops hand connections to.
type connServer interface {
	ServeConn(net.Conn)
	Shutdown(ctx context.Context) error
}

// protocol is one protocol roost serves: its name in `protocols`, the
// service whose listeners it takes, and how to build its server. A new
// protocol is one entry here and one file with its builder.
type protocol struct {
	name    string
	service string
	// build makes the server for plain (implicitTLS false) or ssl = yes
	// listeners.
	build func(st *stack, implicitTLS bool) (connServer, error)
	// always: served whatever `protocols` says (Dovecot's auth service).
	always bool
}

func protocols() []protocol {
	return []protocol{
		{name: "imap", service: "imap-login", build: buildIMAP},
		{name: "lmtp", service: "lmtp", build: buildLMTP},
		{name: "pop3", service: "pop3-login", build: buildPOP3},
		{name: "sieve", service: "managesieve-login", build: buildManageSieve},
		{name: "auth", service: "auth", build: buildAuth, always: true},
	}
}

// stack is everything built from one settings snapshot. Connections keep
// the stack they were accepted by until they end.
type stack struct {
	plan    *plan
	log     *logging.Logger
	auth    *auth.Auth
	proc    *process
	storage storage.Driver
	tls     *tls.Config
	// servers by listener service name, for plain and ssl = yes listeners.
	servers map[serverKey]connServer

	mu      sync.Mutex // guards the fields below
	live    int        // connections accepted and not yet closed
	retired bool       // a reload replaced this stack
	closed  bool       // retired with no connections left: auth backends closed
}

type serverKey struct {
	service     string
	implicitTLS bool
}

// process holds what outlives reloads: the one storage driver (so every
// session of a mailbox shares one change tracker), the auth penalty per
// remote address, the per-user+IP session counters and the log files.
type process struct {
	mu         sync.Mutex // guards logs
	logs       map[logKey]*logging.Logger
	drv        *maildir.Driver
	penalty    *login.Penalty // shared by every service
	imapUserIP *imapserver.UserIPCounter
}

func newProcess() *process {
	return &process{
		logs:       map[logKey]*logging.Logger{},
		drv:        maildir.New(maildir.Options{}),
		penalty:    login.NewPenalty(login.PenaltyOptions{}),
		imapUserIP: imapserver.NewUserIPCounter(),
	}
}

// logger returns the logger for o, opening it once: reloads with the same
// log settings keep writing through the same files, so nothing leaks.
func (pr *process) logger(o logging.Options) (*logging.Logger, error) {
	k := logKey{o.Path, o.InfoPath, o.DebugPath, o.SyslogFacility, o.Timestamp, o.Debug}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if l, ok := pr.logs[k]; ok {
		return l, nil
	}
	l, err := logging.New(o)
	if err != nil {
		return nil, err
	}
	pr.logs[k] = l
	return l, nil
}

// logKey is what makes two log configurations the same destination.
type logKey struct {
	path, info, debug, facility, stamp string
	debugOn                            bool
}

// close writes back the cached mailbox state and closes every log
// destination, when the process ends.
func (pr *process) close() {
	pr.drv.Close()
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for _, l := range pr.logs {
		l.Close()
	}
}

// newStack builds the servers of one snapshot over the process's shared
// state.
func newStack(p *plan, proc *process) (*stack, error) {
	g := p.global
	log, err := proc.logger(logging.Options{
		Path: g.Log.Path, InfoPath: g.Log.InfoPath, DebugPath: g.Log.DebugPath,
		SyslogFacility: g.Log.SyslogFacility, Timestamp: g.Log.Timestamp,
		Debug: g.Mail.Debug || g.Auth.Debug,
	})
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	st := &stack{plan: p, log: log, proc: proc, storage: proc.drv, servers: map[serverKey]connServer{}}
	ao, err := authOptions(p.imap, log.With("auth").Slog())
	if err != nil {
		return nil, err
	}
	if st.auth, err = auth.New(ao); err != nil {
		return nil, &ConfigError{Err: err}
	}
	if p.tls != nil {
		if st.tls, err = service.NewTLSConfig(*p.tls); err != nil {
			return nil, &ConfigError{Err: err}
		}
	}
	for _, pr := range protocols() {
		if !p.serves(pr) {
			continue
		}
		for _, implicit := range []bool{false, true} {
			if implicit && st.tls == nil {
				continue
			}
			srv, err := pr.build(st, implicit)
			if err != nil {
				return nil, err
			}
			st.servers[serverKey{pr.service, implicit}] = srv
		}
	}
	return st, nil
}

// loginService builds the pre-auth policy for one protocol.
func (st *stack) loginService(proto string) (*login.Service, error) {
	s := st.plan.settingsFor(proto)
	ls, err := login.New(loginOptions(st, s, login.Options{
		Auth:                   st.auth,
		Mechanisms:             s.Auth.Mechanisms,
		AllowInsecurePlaintext: !s.Auth.DisablePlaintext,
		SSLRequired:            st.plan.tlsReq,
		TrustedNetworks:        s.Login.TrustedNetworks,
		Logger:                 st.log.With(proto + "-login").Slog(),
	}))
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: %w", proto, err)}
	}
	return ls, nil
}

func buildIMAP(st *stack, implicitTLS bool) (connServer, error) {
	s := st.plan.imap
	ls, err := st.loginService("imap")
	if err != nil {
		return nil, err
	}
	events, err := imapSieveHook(st, s) // imapsieve
	if err != nil {
		return nil, err
	}
	appendLimit, err := maxMailSize(s) // APPENDLIMIT (RFC 7889)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("imap: %w", err)}
	}
	srv, err := imapserver.New(imapserver.Options{
		Auth:         imapserver.LoginAuthenticator(ls),
		MailEvents:   events,
		ImapsieveURL: imapsieveURL(s),
		OpenUser: func(ctx context.Context, is *imapserver.Session) (storage.User, error) {
			return st.openUser(ctx, "imap", is.Login)
		},
		TLS:                st.tls,
		ImplicitTLS:        implicitTLS,
		Logger:             st.log,
		Greeting:           s.Login.Greeting,
		MaxLineLength:      int(s.IMAP.MaxLineLength),
		IdleNotifyInterval: s.IMAP.IdleNotifyInterval,
		AppendLimit:        appendLimit,

		MaxUserIPConnections: imapserver.UserIPLimit(s.Mail.MaxUserIPConnections),
		UserIPCounter:        st.proc.imapUserIP,
	})
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("imap: %w", err)}
	}
	return srv, nil
}

// serve hands one accepted connection to its protocol's server. It
// reports false, leaving c alone, when the stack is closed (a reload
// retired it and its last connection ended): the caller uses the current
// stack.
func (st *stack) serve(c net.Conn, b service.Bound) bool {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return false
	}
	st.live++
	st.mu.Unlock()
	st.route(&trackedConn{Conn: c, done: st.release}, b)
	return true
}

// route hands c to the server of b's service.
func (st *stack) route(c net.Conn, b service.Bound) {
	name := ""
	if b.Inet != nil {
		name = b.Inet.Service
	} else if b.Unix != nil {
		name = b.Unix.Service
	}
	srv, ok := st.servers[serverKey{name, tlsListener(b)}]
	if !ok {
		// The listener's protocol was removed by a reload.
		c.Close()
		return
	}
	srv.ServeConn(c)
}

// release is called once per connection when it closes.
func (st *stack) release() {
	st.mu.Lock()
	st.live--
	last := st.retired && st.live == 0 && !st.closed
	if last {
		st.closed = true
	}
	st.mu.Unlock()
	if last {
		st.closeBackends()
	}
}

// retire marks the stack replaced by a reload: once its last connection
// ends, its auth backends (SQL and LDAP connection pools) are closed.
func (st *stack) retire() {
	st.mu.Lock()
	st.retired = true
	last := st.live == 0 && !st.closed
	if last {
		st.closed = true
	}
	st.mu.Unlock()
	if last {
		st.closeBackends()
	}
}

func (st *stack) isClosed() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.closed
}

func (st *stack) closeBackends() {
	if err := st.auth.Close(); err != nil {
		st.log.Errorf("closing the auth backends of the old configuration: %v", err)
	}
}

// trackedConn tells its stack when the protocol server closes it.
type trackedConn struct {
	net.Conn
	once sync.Once
	done func()
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.done)
	return err
}

func (st *stack) shutdown(ctx context.Context) {
	for _, s := range st.servers {
		if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			st.log.Errorf("shutdown: %v", err)
		}
	}
}

// openUser opens the mail store of a logged-in user.
func (st *stack) openUser(ctx context.Context, proto string, ls *login.Session) (storage.User, error) {
	if ls == nil {
		return nil, errors.New("no login session")
	}
	fields := ls.UserInfo.Fields
	if fields == nil {
		fields = auth.Fields{}
	}
	uc, err := userConfig(st.plan.settingsFor(proto), proto, ls.User, fields, imapserver.Fields, time.Now)
	if err != nil {
		st.log.With(fmt.Sprintf("%s(%s)", proto, ls.User)).Errorf("%v", err)
		return nil, storage.Wrap(storage.KindUnavailable, "Internal error occurred. Refer to server log for more information.", err)
	}
	return st.storage.OpenUser(ctx, uc)
}

// certSelector answers TLS certificate selection from `local_name NAME {}`
// (SNI) and `local IP {}` filter blocks.
func certSelector(snap *settings.Snapshot, def settings.SSL) func(string, netip.Addr) (service.CertKey, bool) {
	return func(name string, local netip.Addr) (service.CertKey, bool) {
		s := snap.For(settings.Filter{Protocol: "imap", Local: local, LocalName: name}).SSL
		if s.Cert == def.Cert && s.Key == def.Key {
			return service.CertKey{}, false
		}
		return service.CertKey{CertPEM: s.Cert, KeyPEM: s.Key}, true
	}
}
