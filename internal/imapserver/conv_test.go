package imapserver

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"crypto/tls"
	"io"
	mrand "math/rand/v2"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"roost/internal/conntest"
	"roost/internal/logging"
	"roost/internal/maildir"
	"roost/internal/memstore"
	"roost/internal/storage"
)

// Conversation tests: an in-process server over net.Pipe with the
// memstore driver, driven line by line (see HANDOFF.md).

var testNow = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// testAuth is a tiny Authenticator until the login package lands: users
// map to passwords; plaintext is allowed when insecure is set or on TLS.
type testAuth struct {
	users    map[string]string
	insecure bool
}

func (a *testAuth) PlaintextAllowed(ci ConnInfo) bool { return a.insecure || ci.TLS }

func (a *testAuth) Mechanisms(ci ConnInfo) []string {
	if a.PlaintextAllowed(ci) {
		return []string{"PLAIN", "LOGIN"}
	}
	return nil
}

func (a *testAuth) Login(ctx context.Context, ci ConnInfo, user, pass string) (*Session, error) {
	if !a.PlaintextAllowed(ci) {
		return nil, ErrPrivacyRequired
	}
	if p, ok := a.users[user]; !ok || p != pass {
		return nil, ErrAuthFailed
	}
	if user == "broken" {
		return nil, ErrAuthUnavailable
	}
	return &Session{User: user}, nil
}

func (a *testAuth) Begin(ctx context.Context, ci ConnInfo, mech string) (Exchange, error) {
	if !a.PlaintextAllowed(ci) {
		return nil, ErrPrivacyRequired
	}
	switch mech {
	case "PLAIN":
		return &plainExchange{a: a, ci: ci}, nil
	case "LOGIN":
		return &saslLoginExchange{a: a, ci: ci}, nil
	}
	return nil, ErrUnknownMech
}

type plainExchange struct {
	a  *testAuth
	ci ConnInfo
}

func (p *plainExchange) Next(ctx context.Context, resp []byte) ([]byte, *Session, error) {
	if resp == nil {
		return []byte{}, nil, nil
	}
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 {
		return nil, nil, ErrAuthFailed
	}
	s, err := p.a.Login(ctx, p.ci, string(parts[1]), string(parts[2]))
	if s != nil {
		s.Method = "PLAIN"
	}
	return nil, s, err
}

// saslLoginExchange is SASL LOGIN: two challenges.
type saslLoginExchange struct {
	a    *testAuth
	ci   ConnInfo
	user *string
}

func (l *saslLoginExchange) Next(ctx context.Context, resp []byte) ([]byte, *Session, error) {
	switch {
	case resp == nil:
		return []byte("Username:"), nil, nil
	case l.user == nil:
		u := string(resp)
		l.user = &u
		return []byte("Password:"), nil, nil
	}
	s, err := l.a.Login(ctx, l.ci, *l.user, string(resp))
	if s != nil {
		s.Method = "LOGIN"
	}
	return nil, s, err
}

// testDrivers are the storage drivers conversation scenarios run on;
// "+tls" runs the scenario over implicit TLS.
var testDrivers = []string{"memstore", "maildir", "maildir+tls"}

// forDrivers runs a scenario once per storage driver.
func forDrivers(t *testing.T, f func(t *testing.T, driver string)) {
	for _, d := range testDrivers {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}

// isMaildir reports whether a scenario runs on the maildir driver.
func isMaildir(driver string) bool { return strings.HasPrefix(driver, "maildir") }

// testServer is a server plus its storage and log.
type testServer struct {
	t         testing.TB
	srv       *Server
	drv       storage.Driver
	dir       string // maildir root, when drv is maildir
	log       *conntest.LogBuffer
	auth      *testAuth
	opts      Options
	clientTLS *tls.Config // set when the server runs implicit TLS
	// namespaces is the users' namespace configuration (nil: memstore's
	// default, one inbox namespace with separator "/").
	namespaces []storage.NamespaceConfig
	metadata   storage.MetadataConfig // the users' UserConfig.Metadata
}

// newTestServer starts a server on memstore; mod may adjust the options.
func newTestServer(t testing.TB, mod ...func(*Options)) *testServer {
	t.Helper()
	return newDriverServer(t, "memstore", mod...)
}

// newDriverServer starts a server on the named storage driver
// ("memstore" or "maildir", in a temporary directory).
func newDriverServer(t testing.TB, driver string, mod ...func(*Options)) *testServer {
	t.Helper()
	ts := &testServer{t: t, log: &conntest.LogBuffer{},
		auth: &testAuth{users: map[string]string{"alice": "secret", "bob": "hunter2", "broken": "x"}, insecure: true}}
	opts := Options{
		Auth:     ts.auth,
		OpenUser: ts.openUser,
		Logger:   logging.NewWriter(ts.log, true),
		Now:      func() time.Time { return testNow },
		Rand:     mrand.New(mrand.NewPCG(1, 2)),
	}
	for _, m := range mod {
		m(&opts)
	}
	ts.drv = memstore.New(memstore.Options{})
	if name, ok := strings.CutSuffix(driver, "+tls"); ok {
		driver = name
		opts.TLS, ts.clientTLS = testTLSConfig(t)
		opts.ImplicitTLS = true
	}
	if driver == "maildir" {
		ts.dir = t.TempDir()
		ts.drv = maildir.New(maildir.Options{Hostname: "test", Pid: 1, Now: func() time.Time { return testNow }})
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv, ts.opts = srv, opts
	t.Cleanup(func() { srv.Close() })
	return ts
}

func (ts *testServer) userConfig(name string) storage.UserConfig {
	nss := ts.namespaces
	if ts.dir != "" {
		if nss == nil {
			nss = []storage.NamespaceConfig{{Name: "inbox", Type: "private", Separator: "/", Inbox: true,
				List: "yes", Subscriptions: true}}
		}
		nss = append([]storage.NamespaceConfig(nil), nss...)
		for i := range nss {
			nss[i].Location = "maildir:" + ts.dir + "/" + name + ":LAYOUT=fs"
		}
	}
	return storage.UserConfig{Username: name, Fields: Fields, Namespaces: nss, UID: -1, GID: -1,
		Now: func() time.Time { return testNow }, Metadata: ts.metadata}
}

func (ts *testServer) openUser(ctx context.Context, s *Session) (storage.User, error) {
	return ts.drv.OpenUser(ctx, ts.userConfig(s.User))
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

// appendMsg saves a message through storage.
func (ts *testServer) appendMsg(user, box, body string, flags ...string) storage.AppendResult {
	ts.t.Helper()
	res, err := ts.user(user).Append(context.Background(), box, storage.AppendMessage{
		Body: strings.NewReader(body), Size: -1, Flags: flags, InternalDate: testNow})
	if err != nil {
		ts.t.Fatal(err)
	}
	return res
}

// tconn is the client side of one conversation.
type tconn struct {
	t    testing.TB
	nc   net.Conn
	br   *bufio.Reader
	w    *flate.Writer // after COMPRESS DEFLATE (cmd_compress_test.go), writing to zbuf
	zbuf *bytes.Buffer
}

// dial connects and reads the greeting, which is returned.
func (ts *testServer) dial() (*tconn, string) {
	ts.t.Helper()
	cli, srv := net.Pipe()
	ts.srv.ServeConn(srv)
	c := &tconn{t: ts.t, nc: cli, br: bufio.NewReader(cli)}
	ts.t.Cleanup(func() { cli.Close() })
	if ts.clientTLS != nil {
		c.startTLS(ts.clientTLS)
	}
	return c, c.line()
}

// login dials and logs in as alice.
func (ts *testServer) login() *tconn {
	ts.t.Helper()
	c, _ := ts.dial()
	c.cmd("L LOGIN alice secret").ok()
	return c
}

// send writes one line (CRLF added).
func (c *tconn) send(s string) {
	c.t.Helper()
	c.sendRaw(s + "\r\n")
}

func (c *tconn) sendRaw(s string) {
	c.t.Helper()
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if c.w != nil {
		if err := c.writeCompressed(s); err != nil {
			c.t.Fatalf("send %q: %v", s, err)
		}
		return
	}
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

var literalAtEnd = regexp.MustCompile(`\{(\d+)\}$`)

// line reads one response line without CRLF; literals are inlined.
func (c *tconn) line() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out strings.Builder
	for {
		l, err := c.br.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v (after %q)", err, out.String()+l)
		}
		l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
		out.WriteString(l)
		m := literalAtEnd.FindStringSubmatch(l)
		if m == nil {
			return out.String()
		}
		n, _ := strconv.Atoi(m[1])
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.br, buf); err != nil {
			c.t.Fatal(err)
		}
		out.WriteString("\r\n")
		out.Write(buf)
	}
}

// expect reads one line and checks its prefix.
func (c *tconn) expect(prefix string) string {
	c.t.Helper()
	l := c.line()
	if !strings.HasPrefix(l, prefix) {
		c.t.Fatalf("got %q, want prefix %q", l, prefix)
	}
	return l
}

// expectClosed checks that the server closed the connection.
func (c *tconn) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if l, err := c.br.ReadString('\n'); err == nil {
		c.t.Fatalf("got %q, want the connection closed", l)
	}
}

// result is a command's response: untagged lines and the tagged line.
type result struct {
	t        testing.TB
	untagged []string
	tagged   string
}

// cmd sends one command line and reads up to its tagged response.
func (c *tconn) cmd(line string) *result {
	c.t.Helper()
	tag, _, _ := strings.Cut(line, " ")
	c.send(line)
	return c.collect(tag)
}

// collect reads lines up to the tagged response of tag.
func (c *tconn) collect(tag string) *result {
	c.t.Helper()
	r := &result{t: c.t}
	for {
		l := c.line()
		if strings.HasPrefix(l, tag+" ") {
			r.tagged = strings.TrimPrefix(l, tag+" ")
			return r
		}
		r.untagged = append(r.untagged, l)
	}
}

// ok checks for a tagged OK; status checks any prefix ("NO [TRYCREATE]").
func (r *result) ok() *result {
	r.t.Helper()
	return r.status("OK")
}

func (r *result) status(prefix string) *result {
	r.t.Helper()
	if !strings.HasPrefix(r.tagged, prefix) {
		r.t.Fatalf("tagged %q, want prefix %q (untagged %q)", r.tagged, prefix, r.untagged)
	}
	return r
}

// has checks that an untagged line equals want.
func (r *result) has(want string) *result {
	r.t.Helper()
	for _, l := range r.untagged {
		if l == want {
			return r
		}
	}
	r.t.Fatalf("no untagged %q in %q", want, r.untagged)
	return r
}

// lacks checks that no untagged line starts with prefix.
func (r *result) lacks(prefix string) *result {
	r.t.Helper()
	for _, l := range r.untagged {
		if strings.HasPrefix(l, prefix) {
			r.t.Fatalf("unexpected %q in %q", l, r.untagged)
		}
	}
	return r
}

// equal checks the untagged lines exactly.
func (r *result) equal(want ...string) *result {
	r.t.Helper()
	if strings.Join(r.untagged, "\n") != strings.Join(want, "\n") {
		r.t.Fatalf("untagged:\n%s\nwant:\n%s", strings.Join(r.untagged, "\n"), strings.Join(want, "\n"))
	}
	return r
}

// testTLSConfig returns a server config with a fresh self-signed cert,
// and a client config trusting it.
func testTLSConfig(t testing.TB) (server, client *tls.Config) {
	return conntest.TLSConfig(t, "imap.test")
}

// startTLS switches the client side to TLS after "OK Begin TLS".
func (c *tconn) startTLS(cfg *tls.Config) {
	c.t.Helper()
	tc := conntest.StartTLS(c.t, c.nc, cfg)
	c.nc, c.br = tc, bufio.NewReader(tc)
}
