package imapserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/auth"
	"roost/internal/login"
	"roost/internal/passwdfile"
)

// loginAdapter runs the real login.Service behind Authenticator, the way
// the composition root wires it.
type loginAdapter struct{ svc *login.Service }

func toLoginCI(ci ConnInfo) login.ConnInfo {
	return login.ConnInfo{Service: ci.Service, Local: ci.Local, Remote: ci.Remote, TLS: ci.TLS, SessionID: ci.SessionID}
}

func (a loginAdapter) PlaintextAllowed(ci ConnInfo) bool { return a.svc.PlaintextAllowed(toLoginCI(ci)) }
func (a loginAdapter) Mechanisms(ci ConnInfo) []string   { return a.svc.Mechanisms(toLoginCI(ci)) }

func (a loginAdapter) Login(ctx context.Context, ci ConnInfo, user, pass string) (*Session, error) {
	ls, err := a.svc.Login(ctx, toLoginCI(ci), user, pass)
	if err != nil {
		return nil, fromLoginError(err)
	}
	return &Session{User: ls.User, Method: ls.Mechanism}, nil
}

func (a loginAdapter) Begin(ctx context.Context, ci ConnInfo, mech string) (Exchange, error) {
	ex, err := a.svc.Begin(ctx, toLoginCI(ci), mech)
	if err != nil {
		return nil, fromLoginError(err)
	}
	return loginExchangeAdapter{ex}, nil
}

type loginExchangeAdapter struct{ ex *login.Exchange }

func (e loginExchangeAdapter) Next(ctx context.Context, resp []byte) ([]byte, *Session, error) {
	ch, ls, err := e.ex.Next(ctx, resp)
	if err != nil {
		return nil, nil, fromLoginError(err)
	}
	if ls != nil {
		return nil, &Session{User: ls.User, Method: ls.Mechanism}, nil
	}
	return ch, nil, nil
}

func fromLoginError(err error) error {
	m := map[login.Kind]error{login.Failed: ErrAuthFailed, login.Nologin: ErrAuthFailed,
		login.TempFail: ErrAuthUnavailable, login.PlaintextDisabled: ErrPrivacyRequired,
		login.UnknownMechanism: ErrUnknownMech, login.Aborted: ErrAuthAborted}
	if target, ok := m[login.KindOf(err)]; ok {
		return fmt.Errorf("%w: %w", target, err)
	}
	return err
}

// TestRealLogin logs in through login.Service with a passwd-file.
func TestRealLogin(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(path, []byte("alice:{PLAIN}secret:1000:1000::/home/alice::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pdb, err := passwdfile.NewPassdb(path, passwdfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	udb, err := passwdfile.NewUserdb(path, passwdfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Options{FailureDelay: -1,
		Passdbs: []auth.PassdbConfig{{Name: "passwd-file", Driver: pdb}},
		Userdbs: []auth.UserdbConfig{{Name: "passwd-file", Driver: udb}}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := login.New(login.Options{Auth: a})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(o *Options) { o.Auth = loginAdapter{svc} })

	// Over a pipe the connection is neither TLS nor loopback: plaintext
	// is refused, as disable_plaintext_auth = yes wants.
	c, greeting := ts.dial()
	if !strings.Contains(greeting, "LOGINDISABLED] ") {
		t.Fatalf("greeting %q", greeting)
	}
	c.cmd("a LOGIN alice secret").status("NO [PRIVACYREQUIRED]")

	svc, err = login.New(login.Options{Auth: a, AllowInsecurePlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	ts = newTestServer(t, func(o *Options) { o.Auth = loginAdapter{svc} })
	c, _ = ts.dial()
	c.cmd("a LOGIN alice wrong").status("NO [AUTHENTICATIONFAILED] Authentication failed.")
	c.cmd("b AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==").status("OK [CAPABILITY ")
	c.cmd("c SELECT INBOX").ok()
	c.cmd("d LOGOUT").ok()
}
