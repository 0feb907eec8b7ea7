package server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roost/internal/pwscheme"
	"roost/internal/service"
)

// instance is a roost server running in-process on a temporary
// configuration.
type instance struct {
	dir    string
	addrs  []net.Addr
	stop   context.CancelFunc
	done   chan error
	reload chan struct{}
}

// writeConfig writes a configuration with one passwd-file user "alice"
// (password "secret") and the given extra lines, and returns its path.
func writeConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	hash, err := pwscheme.Generate("SHA256-CRYPT", "secret", "alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	users := fmt.Sprintf("alice:%s::::%s/home/alice::\n", hash, dir)
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	uid := os.Geteuid()
	cfg := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
ssl = no
base_dir = %[1]s/run
log_path = %[1]s/log
first_valid_uid = 0
mail_uid = %[2]d
mail_gid = %[3]d
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = %[1]s/users
}
userdb {
  driver = passwd-file
  args = %[1]s/users
}
service imap-login {
  inet_listener imap {
    port = %[5]d
  }
}
%[4]s
`, dir, uid, os.Getegid(), extra, freePort(t))
	path := filepath.Join(dir, "roost.conf")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func start(t *testing.T, extra string) *instance {
	t.Helper()
	dir := t.TempDir()
	path := writeConfig(t, dir, extra)
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{dir: dir, stop: cancel, done: make(chan error, 1), reload: make(chan struct{})}
	ready := make(chan []net.Addr, 1)
	go func() {
		in.done <- Run(ctx, Options{ConfigPath: path, Stderr: io.Discard, Reload: in.reload,
			Ready: func(a []net.Addr) { ready <- a }})
	}()
	select {
	case in.addrs = <-ready:
	case err := <-in.done:
		t.Fatalf("Run: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Logf("server log:\n%s", log)
		}
		cancel()
		if err := <-in.done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	})
	return in
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr net.Addr) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
}

// expect reads lines until one starts with prefix and returns it.
func (c *client) expect(prefix string) string {
	c.t.Helper()
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return line
		}
		if tag := prefix[:strings.IndexByte(prefix+" ", ' ')]; tag != "*" && strings.HasPrefix(line, tag+" ") {
			c.t.Fatalf("want %q, got %q", prefix, line)
		}
	}
}

func TestServeLoginAppendFetch(t *testing.T) {
	in := start(t, "")
	c := dial(t, in.addrs[0])
	c.expect("* OK")
	c.send("a LOGIN alice wrong")
	c.expect("a NO [AUTHENTICATIONFAILED]")
	c.send("b LOGIN alice secret")
	c.expect("b OK")
	c.send("c APPEND INBOX (\\Flagged) {21+}\r\nSubject: x\r\n\r\nhello\r\n")
	c.expect("c OK [APPENDUID ")
	c.send("d SELECT INBOX")
	c.expect("* 1 EXISTS")
	c.expect("d OK [READ-WRITE]")
	c.send("e FETCH 1 (FLAGS RFC822.SIZE)")
	if got := c.expect("* 1 FETCH"); !strings.Contains(got, `\Flagged`) || !strings.Contains(got, "RFC822.SIZE 21") {
		t.Errorf("FETCH: %q", got)
	}
	c.expect("e OK")
	c.send("f LOGOUT")
	c.expect("f OK")
	// The message is in Dovecot's Maildir layout under the user's home.
	files, _ := filepath.Glob(filepath.Join(in.dir, "home/alice/Maildir/cur/*,S=*,W=21:2,F"))
	if len(files) != 1 {
		t.Errorf("maildir files: %v", files)
	}
	log, _ := os.ReadFile(filepath.Join(in.dir, "log"))
	if !strings.Contains(string(log), "imap-login: Info: Login: user=<alice>, method=PLAIN, rip=127.0.0.1") {
		t.Errorf("log lacks the login line:\n%s", log)
	}
	if strings.Contains(string(log), "secret") || strings.Contains(string(log), "wrong") {
		t.Errorf("log contains a password:\n%s", log)
	}
}

func TestReloadKeepsServing(t *testing.T) {
	in := start(t, "")
	cfg := filepath.Join(in.dir, "roost.conf")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, "login_greeting = Reloaded ready.\n"...), 0o600)
	in.reload <- struct{}{}
	in.reload <- struct{}{} // the second send returns once the first reload finished
	c := dial(t, in.addrs[0])
	if got := c.expect("* OK"); !strings.Contains(got, "Reloaded ready.") {
		t.Errorf("greeting after reload: %q", got)
	}
}

func TestBadReloadKeepsOldConfig(t *testing.T) {
	in := start(t, "")
	os.WriteFile(filepath.Join(in.dir, "roost.conf"), []byte("protocols = imap\nnot_a_setting = 1\n"), 0o600)
	in.reload <- struct{}{}
	in.reload <- struct{}{}
	c := dial(t, in.addrs[0])
	c.expect("* OK")
	c.send("a LOGIN alice secret")
	c.expect("a OK")
	log, _ := os.ReadFile(filepath.Join(in.dir, "log"))
	if !strings.Contains(string(log), "roost.conf:2: Unknown setting: not_a_setting") {
		t.Errorf("log lacks the reload error:\n%s", log)
	}
}

func TestCheckNamesFileAndLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeConfig(t, dir, "imap_frobnicate = yes")
	err := Check(path, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "roost.conf:23") || !strings.Contains(err.Error(), "imap_frobnicate") {
		t.Fatalf("Check: %v", err)
	}
}

func TestNotYetImplementedWarns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := writeConfig(t, dir, "protocols = imap submission\n")
	var warn strings.Builder
	if err := Check(path, &warn); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "roost.conf:23") || !strings.Contains(warn.String(), "submission") {
		t.Errorf("warnings: %q", warn.String())
	}
}

func TestPerUserUIDRefused(t *testing.T) {
	in := start(t, "")
	// A user whose userdb uid is not the one roost serves mail as.
	other := os.Geteuid() + 1
	hash, _ := pwscheme.Generate("PLAIN", "pw", "bob", 0)
	f, _ := os.OpenFile(filepath.Join(in.dir, "users"), os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, "bob:%s:%d:%d::%s/home/bob::\n", hash, other, other, in.dir)
	f.Close()
	c := dial(t, in.addrs[0])
	c.expect("* OK")
	c.send("a LOGIN bob pw")
	c.expect("a NO")
	log, _ := os.ReadFile(filepath.Join(in.dir, "log"))
	if !strings.Contains(string(log), "per-user system uids are not supported") {
		t.Errorf("log lacks the refusal:\n%s", log)
	}
}

func TestImplicitTLSAndSNI(t *testing.T) {
	dir := t.TempDir()
	def, _ := generateCert(t, dir, "default", "localhost")
	other, _ := generateCert(t, dir, "other", "mail.example.org")
	extra := fmt.Sprintf(`ssl = yes
ssl_cert = <%[1]s
ssl_key = <%[2]s
local_name mail.example.org {
  ssl_cert = <%[3]s
  ssl_key = <%[4]s
}
service imap-login {
  inet_listener imaps {
    port = %[5]d
    ssl = yes
  }
}
`, def[0], def[1], other[0], other[1], freePort(t))
	in := start(t, extra)
	for _, tc := range []struct{ sni, cn string }{{"mail.example.org", "mail.example.org"}, {"x.example", "localhost"}} {
		var imaps net.Addr
		for _, a := range in.addrs {
			if _, ok := a.(*net.TCPAddr); ok {
				imaps = a // the imaps listener is bound after imap
			}
		}
		conn, err := tls.Dial("tcp", imaps.String(), &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != tc.cn {
			t.Errorf("SNI %s: certificate %s, want %s", tc.sni, cn, tc.cn)
		}
		r := bufio.NewReader(conn)
		if line, _ := r.ReadString('\n'); !strings.HasPrefix(line, "* OK") {
			t.Errorf("greeting %q", line)
		}
		conn.Close()
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// generateCert writes a self-signed certificate for host and returns the
// paths of the certificate and key.
func generateCert(t *testing.T, dir, name, host string) ([2]string, error) {
	t.Helper()
	ck, err := service.SelfSigned([]string{host}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	paths := [2]string{filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")}
	os.WriteFile(paths[0], []byte(ck.CertPEM), 0o600)
	os.WriteFile(paths[1], []byte(ck.KeyPEM), 0o600)
	return paths, nil
}

func TestQuickstartReusesUser(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out1, out2 strings.Builder
	p1, err := Quickstart(dir, &out1)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Quickstart(dir, &out2)
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 || out1.String() != out2.String() {
		t.Errorf("second run differs:\n%s\n%s", out1.String(), out2.String())
	}
	if !strings.Contains(out1.String(), "password: ") || !strings.Contains(out1.String(), "127.0.0.1:10143") {
		t.Errorf("quickstart output: %s", out1.String())
	}
	if err := Check(p1, io.Discard); err != nil {
		t.Errorf("generated configuration does not load: %v", err)
	}
}

// TestIdleSeesOutsideWriter: a message dropped into new/ by another
// process (Postfix's virtual, procmail) reaches a session in IDLE through
// the process's one poller.
func TestIdleSeesOutsideWriter(t *testing.T) {
	in := start(t, "")
	c := dial(t, in.addrs[0])
	c.expect("* OK")
	c.send("a LOGIN alice secret")
	c.expect("a OK")
	c.send("b SELECT INBOX")
	c.expect("b OK")
	c.send("c IDLE")
	c.expect("+ ")
	msg := "From: x@example.org\r\nSubject: outside\r\n\r\nbody\r\n"
	newDir := filepath.Join(in.dir, "home/alice/Maildir/new")
	tmp := filepath.Join(in.dir, "home/alice/Maildir/tmp/outside.1")
	if err := os.WriteFile(tmp, []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(newDir, "1700000000.outside.host")); err != nil {
		t.Fatal(err)
	}
	c.expect("* 1 EXISTS")
	c.send("DONE")
	c.expect("c OK")
	c.send("d FETCH 1 (RFC822.SIZE ENVELOPE)")
	if got := c.expect("* 1 FETCH"); !strings.Contains(got, `"outside"`) {
		t.Errorf("FETCH: %q", got)
	}
}

// TestUserIPLimitAcrossListeners: mail_max_userip_connections counts the
// sessions of imap and imaps listeners together, as Dovecot's anvil does.
func TestUserIPLimitAcrossListeners(t *testing.T) {
	dir := t.TempDir()
	def, _ := generateCert(t, dir, "default", "localhost")
	extra := fmt.Sprintf(`mail_max_userip_connections = 1
ssl = yes
ssl_cert = <%[1]s
ssl_key = <%[2]s
service imap-login {
  inet_listener imaps {
    port = %[3]d
    ssl = yes
  }
}
`, def[0], def[1], freePort(t))
	in := start(t, extra)
	c := dial(t, in.addrs[0])
	c.expect("* OK")
	c.send("a LOGIN alice secret")
	c.expect("a OK")
	var imaps net.Addr
	for _, a := range in.addrs {
		if _, ok := a.(*net.TCPAddr); ok {
			imaps = a // the imaps listener is bound after imap
		}
	}
	conn, err := tls.Dial("tcp", imaps.String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c2 := &client{t: t, c: conn, r: bufio.NewReader(conn)}
	c2.expect("* OK")
	c2.send("b LOGIN alice secret")
	c2.expect("b NO [LIMIT]")
}

// TestLocalIPCertificate: a `local IP { ssl_cert ssl_key }` block chooses
// the certificate by the address the client connected to.
func TestLocalIPCertificate(t *testing.T) {
	dir := t.TempDir()
	def, _ := generateCert(t, dir, "default", "localhost")
	loc, _ := generateCert(t, dir, "local", "by-address.example")
	extra := fmt.Sprintf(`ssl = yes
ssl_cert = <%[1]s
ssl_key = <%[2]s
local 127.0.0.1 {
  ssl_cert = <%[3]s
  ssl_key = <%[4]s
}
service imap-login {
  inet_listener imaps {
    port = %[5]d
    ssl = yes
  }
}
`, def[0], def[1], loc[0], loc[1], freePort(t))
	in := start(t, extra)
	var imaps net.Addr
	for _, a := range in.addrs {
		if _, ok := a.(*net.TCPAddr); ok {
			imaps = a
		}
	}
	conn, err := tls.Dial("tcp", imaps.String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if cn := conn.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "by-address.example" {
		t.Errorf("certificate %s, want the local 127.0.0.1 one", cn)
	}
}
