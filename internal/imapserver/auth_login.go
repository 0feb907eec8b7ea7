package imapserver

import (
	"context"
	"fmt"

	"roost/internal/login"
)

// LoginAuthenticator adapts a login.Service to Authenticator. The
// Session it returns carries the login package's session in Login, so
// that Options.OpenUser can use the userdb answer.
func LoginAuthenticator(svc *login.Service) Authenticator { return loginAuth{svc} }

type loginAuth struct{ svc *login.Service }

func loginConnInfo(ci ConnInfo) login.ConnInfo {
	return login.ConnInfo{Service: ci.Service, Local: ci.Local, Remote: ci.Remote, TLS: ci.TLS,
		SessionID: ci.SessionID, LocalName: ci.LocalName, TLSState: ci.TLSState, ServerCert: ci.ServerCert}
}

func (a loginAuth) PlaintextAllowed(ci ConnInfo) bool {
	return a.svc.PlaintextAllowed(loginConnInfo(ci))
}

func (a loginAuth) Mechanisms(ci ConnInfo) []string { return a.svc.Mechanisms(loginConnInfo(ci)) }

func (a loginAuth) Login(ctx context.Context, ci ConnInfo, user, pass string) (*Session, error) {
	ls, err := a.svc.Login(ctx, loginConnInfo(ci), user, pass)
	if err != nil {
		return nil, fromLoginError(err)
	}
	return sessionOf(ls), nil
}

func (a loginAuth) Begin(ctx context.Context, ci ConnInfo, mech string) (Exchange, error) {
	ex, err := a.svc.Begin(ctx, loginConnInfo(ci), mech)
	if err != nil {
		return nil, fromLoginError(err)
	}
	return loginExchange{ex}, nil
}

type loginExchange struct{ ex *login.Exchange }

func (e loginExchange) Next(ctx context.Context, resp []byte) ([]byte, *Session, error) {
	ch, ls, err := e.ex.Next(ctx, resp)
	if err != nil {
		return nil, nil, fromLoginError(err)
	}
	if ls != nil {
		return nil, sessionOf(ls), nil
	}
	return ch, nil, nil
}

func sessionOf(ls *login.Session) *Session {
	return &Session{User: ls.User, Method: ls.Mechanism, Login: ls}
}

// fromLoginError maps login's error kinds onto this package's sentinels,
// keeping the original in the chain for the log.
func fromLoginError(err error) error {
	var target error
	switch login.KindOf(err) {
	case login.Failed, login.Nologin:
		target = ErrAuthFailed
	case login.TempFail:
		target = ErrAuthUnavailable
	case login.PlaintextDisabled:
		target = ErrPrivacyRequired
	case login.UnknownMechanism:
		target = ErrUnknownMech
	case login.Aborted:
		target = ErrAuthAborted
	default:
		return err
	}
	return fmt.Errorf("%w: %w", target, err)
}
