package authserver

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/auth"
	"roost/internal/login"
	"roost/internal/passwdfile"
	"roost/internal/sasl"
)

// loginSASL adapts login.Service as package server does.
type loginSASL struct{ svc *login.Service }

func (a loginSASL) Mechanisms() []sasl.Info { return a.svc.Infos() }
func (a loginSASL) Begin(ctx context.Context, r Request, mech string) (Exchange, error) {
	ex, err := a.svc.Begin(ctx, login.ConnInfo{Service: r.Service, Remote: r.Remote, TLS: r.Secured}, mech)
	if err != nil {
		return nil, &Failure{Err: err}
	}
	return loginEx{ex}, nil
}

type loginEx struct{ ex *login.Exchange }

func (e loginEx) Next(ctx context.Context, resp []byte) ([]byte, string, error) {
	ch, s, err := e.ex.Next(ctx, resp)
	if err != nil {
		return nil, "", &Failure{Temp: login.KindOf(err) == login.TempFail, Err: err}
	}
	if s != nil {
		return nil, s.User, nil
	}
	return ch, "", nil
}

func newServer(t *testing.T) (string, *Server) {
	t.Helper()
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	os.WriteFile(users, []byte("tim@example.org:{PLAIN}tanstaaftanstaaf:1000:1000::/home/tim::\nbob@example.org:{PLAIN}pw:1000:1000::/home/bob::\n"), 0o600)
	pdb, _ := passwdfile.NewPassdb(users, passwdfile.Options{})
	udb, _ := passwdfile.NewUserdb(users, passwdfile.Options{})
	a, err := auth.New(auth.Options{Passdbs: []auth.PassdbConfig{{Name: "passwd-file", Driver: pdb}},
		Userdbs: []auth.UserdbConfig{{Name: "passwd-file", Driver: udb}}, FailureDelay: -1})
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := login.New(login.Options{Auth: a, Mechanisms: []string{"PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256-PLUS"}})
	s, _ := New(Options{SASL: loginSASL{ls}, Auth: a})
	t.Cleanup(func() { s.Close() })
	return dir, s
}

func listen(t *testing.T, s *Server, path string) {
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go s.Serve(l)
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, path string) *client {
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t, c, bufio.NewReader(c)}
}

func (c *client) send(s string) { c.c.Write([]byte(s + "\n")) }
func (c *client) expect(want string) {
	c.t.Helper()
	l, err := c.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, want) {
		c.t.Fatalf("got %q (%v), want prefix %q", l, err, want)
	}
}

func TestClientProtocol(t *testing.T) {
	t.Parallel()
	dir, s := newServer(t)
	path := filepath.Join(dir, "auth-client")
	listen(t, s, path)
	c := dial(t, path)
	c.expect("VERSION\t1\t2\n")
	c.expect("MECH\tPLAIN\tplaintext\n")
	c.expect("MECH\tLOGIN\tplaintext\n")
	c.expect("MECH\tCRAM-MD5\tdictionary\tactive\n")
	c.expect("SPID\t")
	c.expect("CUID\t")
	c.expect("COOKIE\t")
	c.expect("DONE\n")
	c.send("VERSION\t1\t2\nCPID\t42")
	c.send("AUTH\t1\tPLAIN\tservice=smtp\tsecured\trip=127.0.0.1\tresp=" + b64("\x00tim@example.org\x00tanstaaftanstaaf"))
	c.expect("OK\t1\tuser=tim@example.org\n")
	c.send("AUTH\t2\tPLAIN\tservice=smtp\tsecured\tresp=" + b64("\x00tim@example.org\x00wrong"))
	c.expect("FAIL\t2")
	c.send("AUTH\t3\tLOGIN\tservice=smtp\tsecured")
	c.expect("CONT\t3\t" + b64("Username:") + "\n")
	c.send("CONT\t3\t" + b64("bob@example.org"))
	c.expect("CONT\t3\t" + b64("Password:") + "\n")
	c.send("CONT\t3\t" + b64("pw"))
	c.expect("OK\t3\tuser=bob@example.org\n")
	c.send("AUTH\t4\tGSSAPI\tservice=smtp")
	c.expect("FAIL\t4")
	c.send("CONT\t99\tAA==")
	if _, err := c.r.ReadString('\n'); err == nil {
		t.Fatal("unknown CONT id did not close the connection")
	}
}

func TestMasterProtocol(t *testing.T) {
	t.Parallel()
	dir, s := newServer(t)
	master, userdb := filepath.Join(dir, "auth-master"), filepath.Join(dir, "auth-userdb")
	listen(t, s, master)
	listen(t, s, userdb)
	c := dial(t, master)
	c.expect("VERSION\t1\t0\n")
	c.expect("SPID\t")
	c.send("VERSION\t1\t0")
	c.send("USER\t1\ttim@example.org\tservice=lmtp")
	c.expect("USER\t1\ttim@example.org\tuid=1000\tgid=1000\thome=/home/tim\n")
	c.send("USER\t2\tnobody@example.org\tservice=lmtp")
	c.expect("NOTFOUND\t2\n")
	c.send("PASS\t3\tbob@example.org\tservice=doveadm")
	c.expect("PASS\t3\tuser=bob@example.org\n")
	c.send("LIST\t4\tuser=t*")
	c.expect("LIST\t4\ttim@example.org\n")
	c.expect("DONE\t4\n")
	u := dial(t, userdb)
	u.expect("VERSION")
	u.expect("SPID")
	u.send("VERSION\t1\t0")
	u.send("PASS\t1\tbob@example.org")
	u.expect("FAIL\t1\treason=")
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
