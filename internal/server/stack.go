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

// stack is everything built from one settings snapshot. Connections keep
// the stack they were accepted by until they end.
type stack struct {
	plan    *plan
	log     *logging.Logger
	auth    *auth.Auth
	login   *login.Service
	storage storage.Driver
	tls     *tls.Config
	// imap serves plain listeners (with STARTTLS); imaps serves
	// listeners with ssl = yes.
	imap, imaps *imapserver.Server
}

func newStack(p *plan) (*stack, error) {
	g := p.global
	log, err := logging.New(logging.Options{
		Path: g.Log.Path, InfoPath: g.Log.InfoPath, DebugPath: g.Log.DebugPath,
		SyslogFacility: g.Log.SyslogFacility, Timestamp: g.Log.Timestamp,
		Debug: g.Mail.Debug || g.Auth.Debug,
	})
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	st := &stack{plan: p, log: log, storage: maildir.New(maildir.Options{})}
	ao, err := authOptions(p.imap, log.With("auth").Slog())
	if err != nil {
		return nil, err
	}
	if st.auth, err = auth.New(ao); err != nil {
		return nil, &ConfigError{Err: err}
	}
	st.login, err = login.New(login.Options{
		Auth:                   st.auth,
		Mechanisms:             p.imap.Auth.Mechanisms,
		AllowInsecurePlaintext: !p.imap.Auth.DisablePlaintext,
		SSLRequired:            p.tlsReq,
		TrustedNetworks:        p.imap.Login.TrustedNetworks,
		Logger:                 log.With("imap-login").Slog(),
	})
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	if p.tls != nil {
		if st.tls, err = service.NewTLSConfig(*p.tls); err != nil {
			return nil, &ConfigError{Err: err}
		}
	}
	if st.imap, err = st.newIMAP(false); err != nil {
		return nil, err
	}
	if st.tls != nil {
		if st.imaps, err = st.newIMAP(true); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func (st *stack) newIMAP(implicitTLS bool) (*imapserver.Server, error) {
	s := st.plan.imap
	a := &imapAuth{svc: st.login}
	srv, err := imapserver.New(imapserver.Options{
		Auth: a,
		OpenUser: func(ctx context.Context, is *imapserver.Session) (storage.User, error) {
			return st.openUser(ctx, a.take(is))
		},
		TLS:                st.tls,
		ImplicitTLS:        implicitTLS,
		Logger:             st.log,
		Greeting:           s.Login.Greeting,
		MaxLineLength:      int(s.IMAP.MaxLineLength),
		IdleNotifyInterval: s.IMAP.IdleNotifyInterval,
	})
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("imap: %w", err)}
	}
	return srv, nil
}

// serve hands one accepted connection to the right protocol server.
func (st *stack) serve(c net.Conn, b service.Bound) {
	if tlsListener(b) {
		st.imaps.ServeConn(c)
		return
	}
	st.imap.ServeConn(c)
}

func (st *stack) shutdown(ctx context.Context) {
	for _, s := range []*imapserver.Server{st.imap, st.imaps} {
		if s != nil {
			if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
				st.log.Errorf("shutdown: %v", err)
			}
		}
	}
}

// openUser opens the mail store of a logged-in user.
func (st *stack) openUser(ctx context.Context, ls *login.Session) (storage.User, error) {
	if ls == nil {
		return nil, errors.New("no login session")
	}
	fields := ls.UserInfo.Fields
	if fields == nil {
		fields = auth.Fields{}
	}
	uc, err := userConfig(st.plan.imap, ls.User, fields, st.plan.runUID, imapserver.Fields, time.Now)
	if err != nil {
		st.log.With(fmt.Sprintf("imap(%s)", ls.User)).Errorf("%v", err)
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

// imapAuth adapts login.Service to imapserver's Authenticator. The login
// session of each successful login is kept until imapserver asks to open
// the user's mail with the imapserver.Session it was given.
type imapAuth struct {
	svc *login.Service

	mu      sync.Mutex // guards pending
	pending map[*imapserver.Session]*login.Session
}

func connInfo(ci imapserver.ConnInfo) login.ConnInfo {
	return login.ConnInfo{Service: ci.Service, Local: ci.Local, Remote: ci.Remote, TLS: ci.TLS, SessionID: ci.SessionID}
}

func (a *imapAuth) PlaintextAllowed(ci imapserver.ConnInfo) bool {
	return a.svc.PlaintextAllowed(connInfo(ci))
}

func (a *imapAuth) Mechanisms(ci imapserver.ConnInfo) []string {
	return a.svc.Mechanisms(connInfo(ci))
}

func (a *imapAuth) Login(ctx context.Context, ci imapserver.ConnInfo, user, pass string) (*imapserver.Session, error) {
	ls, err := a.svc.Login(ctx, connInfo(ci), user, pass)
	if err != nil {
		return nil, loginError(err)
	}
	return a.keep(ls), nil
}

func (a *imapAuth) Begin(ctx context.Context, ci imapserver.ConnInfo, mech string) (imapserver.Exchange, error) {
	ex, err := a.svc.Begin(ctx, connInfo(ci), mech)
	if err != nil {
		return nil, loginError(err)
	}
	return &imapExchange{a: a, ex: ex}, nil
}

func (a *imapAuth) keep(ls *login.Session) *imapserver.Session {
	is := &imapserver.Session{User: ls.User, Method: ls.Mechanism}
	a.mu.Lock()
	if a.pending == nil {
		a.pending = map[*imapserver.Session]*login.Session{}
	}
	a.pending[is] = ls
	a.mu.Unlock()
	return is
}

func (a *imapAuth) take(is *imapserver.Session) *login.Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	ls := a.pending[is]
	delete(a.pending, is)
	return ls
}

type imapExchange struct {
	a  *imapAuth
	ex *login.Exchange
}

func (e *imapExchange) Next(ctx context.Context, resp []byte) ([]byte, *imapserver.Session, error) {
	ch, ls, err := e.ex.Next(ctx, resp)
	if err != nil {
		return nil, nil, loginError(err)
	}
	if ls != nil {
		return nil, e.a.keep(ls), nil
	}
	return ch, nil, nil
}

// loginError maps login's error kinds to imapserver's.
func loginError(err error) error {
	var target error
	switch login.KindOf(err) {
	case login.Failed, login.Nologin:
		target = imapserver.ErrAuthFailed
	case login.TempFail:
		target = imapserver.ErrAuthUnavailable
	case login.PlaintextDisabled:
		target = imapserver.ErrPrivacyRequired
	case login.UnknownMechanism:
		target = imapserver.ErrUnknownMech
	case login.Aborted:
		target = imapserver.ErrAuthAborted
	default:
		return err
	}
	return fmt.Errorf("%w: %w", target, err)
}
