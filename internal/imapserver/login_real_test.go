package imapserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/auth"
	"roost/internal/login"
	"roost/internal/passwdfile"
	"roost/internal/storage"
)

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
	ts := newTestServer(t, func(o *Options) { o.Auth = LoginAuthenticator(svc) })

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
	ts = newTestServer(t, func(o *Options) { o.Auth = LoginAuthenticator(svc) })
	open := ts.srv.opts.OpenUser
	ts.srv.opts.OpenUser = func(ctx context.Context, s *Session) (storage.User, error) {
		if s.Login == nil || s.Login.UserInfo.Home != "/home/alice" || s.Method != "PLAIN" {
			t.Errorf("session %+v, login %+v", s, s.Login)
		}
		return open(ctx, s)
	}
	c, _ = ts.dial()
	c.cmd("a LOGIN alice wrong").status("NO [AUTHENTICATIONFAILED] Authentication failed.")
	c.cmd("b AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==").status("OK [CAPABILITY ")
	c.cmd("c SELECT INBOX").ok()
	c.cmd("d LOGOUT").ok()
}
