package server

import (
	"context"
	"errors"
	"fmt"

	"roost/internal/login"
	"roost/internal/pop3server"
	"roost/internal/storage"
)

// buildPOP3 makes the POP3 server for the pop3-login service's listeners.
// login.Service is pop3server's Authenticator as it is, so no adapter is
// needed.
func buildPOP3(st *stack, implicitTLS bool) (connServer, error) {
	s := st.plan.settingsFor("pop3")
	ps, err := s.POP3Settings()
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("pop3: %w", err)}
	}
	ls, err := st.loginService("pop3")
	if err != nil {
		return nil, err
	}
	var apop pop3server.APOPFunc
	if ls.APOPEnabled() {
		apop = ls.APOP
	}
	srv, err := pop3server.New(pop3server.Options{
		APOP: apop,
		Auth: ls,
		OpenUser: func(ctx context.Context, sess *login.Session) (storage.User, error) {
			if sess == nil {
				return nil, errors.New("no login session")
			}
			return openUserWith(ctx, st, s, "pop3", sess.User, sess.UserInfo.Fields)
		},
		TLS:            st.tls,
		ImplicitTLS:    implicitTLS,
		Logger:         st.log,
		Greeting:       s.Login.Greeting,
		UIDLFormat:     ps.UIDLFormat,
		ReuseXUIDL:     ps.ReuseXUIDL,
		SaveUIDL:       ps.SaveUIDL,
		UIDLDuplicates: ps.UIDLDuplicates,
		LockSession:    ps.LockSession,
		NoFlagUpdates:  ps.NoFlagUpdates,
		DeletedFlag:    ps.DeletedFlag,
		DeleteType:     ps.DeleteType,
		LogoutFormat:   ps.LogoutFormat,
		EnableLast:     ps.EnableLast,
	})
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("pop3: %w", err)}
	}
	return srv, nil
}
