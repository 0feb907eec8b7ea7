package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"roost/internal/authserver"
	"roost/internal/login"
	"roost/internal/sasl"
	"roost/internal/service"
	"roost/internal/settings"
)

// buildAuth makes the server of `service auth`: auth-client for Postfix
// and Exim on every listener except *-master and *-userdb ones, which
// answer lookups (package authserver). It runs whatever `protocols` says,
// as Dovecot's auth process does. Dovecot has no TLS on auth sockets;
// an `ssl = yes` auth inet_listener is served as a plain one.
func buildAuth(st *stack, _ bool) (connServer, error) {
	ls, err := st.loginService("auth")
	if err != nil {
		return nil, err
	}
	srv, err := authserver.New(authserver.Options{
		SASL:   authSASL{ls},
		Auth:   st.auth,
		Logger: st.log.With("auth").Slog(),
	})
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("auth: %w", err)}
	}
	return srv, nil
}

// loginOptions adds the settings every protocol's login policy shares to
// o: realms, certificates, the anonymous user and the shared penalty.
func loginOptions(st *stack, s *settings.Settings, o login.Options) login.Options {
	o.Hostname = s.Hostname
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	o.Realms = s.Auth.Realms
	o.DefaultRealm = s.Auth.DefaultRealm
	o.MasterUserSeparator = s.Auth.MasterUserSeparator
	o.AnonymousUsername = s.Auth.AnonymousUsername
	o.SSLUsernameFromCert = s.Auth.SSLUsernameFromCert
	o.SSLRequireClientCert = s.Auth.SSLRequireClientCert
	o.CertUsernameField = s.SSL.CertUsernameField
	o.Penalty = st.proc.penalty
	return o
}

// unixListener plans one unix_listener. Relative paths live under
// base_dir, as in Dovecot. Of the auth service's built-in listeners,
// login/login and token-login/tokenlogin (Dovecot's internal login
// protocol) are not bound; without root, socket ownership is left alone
// (only root can give a socket away).
func (p *plan) unixListener(svc string, l settings.UnixListener) *service.UnixListener {
	path := l.Path
	if svc == "auth" && (strings.HasPrefix(path, "login/") || strings.HasPrefix(path, "token-login/")) {
		return nil
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(p.global.BaseDir, path)
	}
	ul := &service.UnixListener{Service: svc, Path: path, Mode: os.FileMode(l.Mode),
		User: p.owner(l.User, service.LookupUID), Group: p.owner(l.Group, service.LookupGID)}
	if svc == "auth" && os.Geteuid() != 0 {
		ul.User, ul.Group = "", ""
	}
	return ul
}

// owner expands the built-in defaults' $default_internal_user and
// $default_login_user; when that account does not exist on this system
// the socket keeps roost's ownership (its mode still applies).
func (p *plan) owner(name string, lookup func(string) (int, error)) string {
	var v string
	switch name {
	case "$default_internal_user":
		v = p.global.DefaultInternalUser
	case "$default_login_user":
		v = p.global.DefaultLoginUser
	default:
		return name
	}
	if _, err := lookup(v); err != nil {
		return ""
	}
	return v
}

// authSASL adapts login.Service to authserver.Authenticator.
type authSASL struct{ svc *login.Service }

func (a authSASL) Mechanisms() []sasl.Info { return a.svc.Infos() }

func (a authSASL) Begin(ctx context.Context, r authserver.Request, mech string) (authserver.Exchange, error) {
	ci := login.ConnInfo{Service: r.Service, Local: r.Local, Remote: r.Remote, TLS: r.Secured,
		SessionID: r.SessionID, LocalName: r.LocalName, CertUser: r.CertUser, CertValid: r.ValidClientCert}
	ex, err := a.svc.Begin(ctx, ci, mech)
	if err != nil {
		return nil, authFailure(err)
	}
	return authExchange{ex}, nil
}

type authExchange struct{ ex *login.Exchange }

func (e authExchange) Next(ctx context.Context, resp []byte) ([]byte, string, error) {
	ch, sess, err := e.ex.Next(ctx, resp)
	if err != nil {
		return nil, "", authFailure(err)
	}
	if sess != nil {
		return nil, sess.User, nil
	}
	return ch, "", nil
}

// authFailure maps login errors to the auth-client protocol's FAIL.
func authFailure(err error) error {
	var le *login.Error
	if !errors.As(err, &le) {
		return &authserver.Failure{Temp: true, Err: err}
	}
	f := &authserver.Failure{Err: err}
	switch le.Kind {
	case login.TempFail:
		f.Temp = true
	case login.Nologin:
		f.Reason = le.Reason
	case login.PlaintextDisabled:
		f.Reason = "Plaintext authentication disallowed on non-secure connections."
	case login.UnknownMechanism:
		f.Reason = "Unsupported authentication mechanism"
	}
	return f
}
