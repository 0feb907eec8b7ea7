package pop3server

import (
	"bufio"
	"context"
	"crypto/tls"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"roost/internal/auth"
	"roost/internal/conntest"
	"roost/internal/logging"
	"roost/internal/login"
	"roost/internal/memstore"
	"roost/internal/passwdfile"
	"roost/internal/storage"
)

var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// newLogin builds a real login.Service over a passwd-file with alice and
// bob; failure delays advance a fake clock instead of sleeping.
func newLogin(t testing.TB, insecureOK bool) *login.Service {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "users")
	users := "alice:{PLAIN}secret::::::\nbob:{PLAIN}hunter2::::::\ngone:{PLAIN}pw::::::nologin reason=Moved\n"
	if err := os.WriteFile(path, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	pdb, err := passwdfile.NewPassdb(path, passwdfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	udb, _ := passwdfile.NewUserdb(path, passwdfile.Options{})
	var mu sync.Mutex
	now := testNow
	a, err := auth.New(auth.Options{
		Passdbs:        []auth.PassdbConfig{{Name: "passwd-file", Driver: pdb}},
		Userdbs:        []auth.UserdbConfig{{Name: "passwd-file", Driver: udb}},
		UsernameFormat: auth.DefaultUsernameFormat,
		UsernameChars:  auth.DefaultUsernameChars,
		Now:            func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
		Sleep: func(_ context.Context, d time.Duration) error {
			mu.Lock()
			now = now.Add(d)
			mu.Unlock()
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := login.New(login.Options{Auth: a, Mechanisms: []string{"plain", "login"}, AllowInsecurePlaintext: insecureOK})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

type testServer struct {
	t   testing.TB
	srv *Server
	drv *memstore.Driver
	log *conntest.LogBuffer
}

// newTestServer starts a server over memstore; mod may adjust options.
func newTestServer(t testing.TB, mod ...func(*Options)) *testServer {
	t.Helper()
	ts := &testServer{t: t, drv: memstore.New(memstore.Options{}), log: &conntest.LogBuffer{}}
	opts := Options{
		Auth: newLogin(t, true),
		OpenUser: func(ctx context.Context, s *login.Session) (storage.User, error) {
			return ts.drv.OpenUser(ctx, ts.userConfig(s.User))
		},
		Logger: logging.NewWriter(ts.log, true),
		Now:    func() time.Time { return testNow },
		Rand:   mrand.New(mrand.NewPCG(1, 2)),
	}
	for _, m := range mod {
		m(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	t.Cleanup(func() { srv.Close() })
	return ts
}

func (ts *testServer) userConfig(name string) storage.UserConfig {
	return storage.UserConfig{Username: name, Now: func() time.Time { return testNow }}
}

// user opens a user's store directly, as another session would.
func (ts *testServer) user(name string) storage.User {
	ts.t.Helper()
	u, err := ts.drv.OpenUser(context.Background(), ts.userConfig(name))
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.t.Cleanup(func() { u.Close() })
	return u
}

func (ts *testServer) appendMsg(user, body string, flags ...string) uint32 {
	ts.t.Helper()
	res, err := ts.user(user).Append(context.Background(), "INBOX", storage.AppendMessage{
		Body: strings.NewReader(body), Size: -1, Flags: flags, InternalDate: testNow})
	if err != nil {
		ts.t.Fatal(err)
	}
	return res.UID
}

// inbox returns the current messages of user's INBOX.
func (ts *testServer) inbox(user string) []storage.Message {
	ts.t.Helper()
	mb, err := ts.user(user).Open(context.Background(), "INBOX", storage.OpenOptions{ReadOnly: true})
	if err != nil {
		ts.t.Fatal(err)
	}
	defer mb.Close()
	return append([]storage.Message(nil), mb.Messages()...)
}

type tconn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// dial connects and returns the greeting.
func (ts *testServer) dial() (*tconn, string) {
	ts.t.Helper()
	cli, srv := net.Pipe()
	ts.srv.ServeConn(srv)
	c := &tconn{t: ts.t, nc: cli, br: bufio.NewReader(cli)}
	ts.t.Cleanup(func() { cli.Close() })
	return c, c.line()
}

// login dials and logs in with USER/PASS.
func (ts *testServer) login(user, pass string) *tconn {
	ts.t.Helper()
	c, _ := ts.dial()
	c.expect("USER "+user, "+OK")
	c.expect("PASS "+pass, "+OK Logged in.")
	return c
}

func (c *tconn) send(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(s + "\r\n")); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

func (c *tconn) line() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (got %q)", err, l)
	}
	if !strings.HasSuffix(l, "\r\n") {
		c.t.Fatalf("line without CRLF: %q", l)
	}
	return strings.TrimSuffix(l, "\r\n")
}

// expect sends cmd and checks the one-line reply equals want.
func (c *tconn) expect(cmd, want string) {
	c.t.Helper()
	c.send(cmd)
	if got := c.line(); got != want {
		c.t.Fatalf("%s: got %q, want %q", cmd, got, want)
	}
}

// multi sends cmd, checks the first line, and returns the data lines
// (dot-unstuffed is not applied: raw lines) up to the terminating ".".
func (c *tconn) multi(cmd, first string) []string {
	c.t.Helper()
	c.send(cmd)
	if got := c.line(); got != first {
		c.t.Fatalf("%s: got %q, want %q", cmd, got, first)
	}
	var out []string
	for {
		l := c.line()
		if l == "." {
			return out
		}
		out = append(out, l)
	}
}

// expectClosed reads until the server closes the connection.
func (c *tconn) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, err := c.br.ReadString('\n'); err != nil {
			return
		}
	}
}

func equalLines(t testing.TB, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// testTLSConfig returns a server config with a fresh self-signed cert,
// and a client config trusting it.
func testTLSConfig(t testing.TB) (server, client *tls.Config) {
	return conntest.TLSConfig(t, "pop.test")
}

func (c *tconn) startTLS(cfg *tls.Config) {
	c.t.Helper()
	tc := conntest.StartTLS(c.t, c.nc, cfg)
	c.nc, c.br = tc, bufio.NewReader(tc)
}
