package e2e

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Test users, in the passwd-file both servers read.
var testUsers = []struct{ name, pass string }{
	{"alice", "alicepw"},
	{"bob", "bobpw"},
}

const startTimeout = 30 * time.Second

// mailEnv is one test installation: a directory holding dovecot.conf, the passwd-file, the
// users' homes and the servers' runtime directories. Dovecot and roost are started from the
// same config file.
type mailEnv struct {
	Dir      string
	Conf     string
	Port     int  // IMAP port
	UID, GID int  // owner of the mail files
	TLS      bool // ssl = yes with a generated self-signed certificate for localhost
	extra    string
}

// envOption adjusts a mailEnv before its config is written.
type envOption func(*mailEnv)

// withTLS enables ssl = yes with a generated self-signed certificate (STARTTLS on the IMAP port).
func withTLS() envOption {
	return func(e *mailEnv) { e.TLS = true }
}

// withConfig appends raw lines to dovecot.conf.
func withConfig(lines string) envOption {
	return func(e *mailEnv) { e.extra += lines + "\n" }
}

// newMailEnv creates a fresh installation under a new temporary directory.
func newMailEnv(t testing.TB, opts ...envOption) *mailEnv {
	t.Helper()
	dir, err := os.MkdirTemp("", "roost-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &mailEnv{Dir: dir, Port: freePort(t)}
	for _, o := range opts {
		o(e)
	}
	e.UID, e.GID = mailOwner(t)
	if err := e.write(); err != nil {
		t.Fatal(err)
	}
	return e
}

// Home is the home directory of a test user.
func (e *mailEnv) Home(user string) string { return filepath.Join(e.Dir, "home", user) }

// Maildir is the root of a test user's Maildir.
func (e *mailEnv) Maildir(user string) string { return filepath.Join(e.Home(user), "Maildir") }

// LogPath is the log_path both servers write.
func (e *mailEnv) LogPath() string { return filepath.Join(e.Dir, "log", "mail.log") }

func (e *mailEnv) write() error {
	// The servers drop privileges: every directory on the way must be traversable.
	if err := os.Chmod(e.Dir, 0o755); err != nil {
		return fmt.Errorf("chmod env dir: %w", err)
	}
	for _, d := range []string{"home", "log"} {
		p := filepath.Join(e.Dir, d)
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
		if err := os.Chown(p, e.UID, e.GID); err != nil {
			return fmt.Errorf("chown %s: %w", d, err)
		}
	}
	if err := os.WriteFile(e.LogPath(), nil, 0o644); err != nil {
		return fmt.Errorf("create log: %w", err)
	}
	os.Chown(e.LogPath(), e.UID, e.GID)
	var users strings.Builder
	for _, u := range testUsers {
		fmt.Fprintf(&users, "%s:{PLAIN}%s::::::\n", u.name, u.pass)
	}
	if err := os.WriteFile(filepath.Join(e.Dir, "users"), []byte(users.String()), 0o644); err != nil {
		return fmt.Errorf("write users: %w", err)
	}
	if e.TLS {
		if err := writeSelfSigned(e.certPath(), e.keyPath()); err != nil {
			return fmt.Errorf("certificate: %w", err)
		}
	}
	e.Conf = filepath.Join(e.Dir, "dovecot.conf")
	if err := os.WriteFile(e.Conf, []byte(e.config()), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// config renders dovecot.conf. Each setting is on its own line: Dovecot 2.3 rejects `{ a = b }`.
func (e *mailEnv) certPath() string { return filepath.Join(e.Dir, "cert.pem") }
func (e *mailEnv) keyPath() string  { return filepath.Join(e.Dir, "key.pem") }

func (e *mailEnv) sslSettings() string {
	if !e.TLS {
		return "ssl = no"
	}
	return fmt.Sprintf("ssl = yes\nssl_cert = <%s\nssl_key = <%s", e.certPath(), e.keyPath())
}

func (e *mailEnv) config() string {
	internal, login := serviceUsers()
	var b strings.Builder
	fmt.Fprintf(&b, `# roost e2e test instance (written by e2e/harness_test.go)
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[2]s
protocols = imap
listen = 127.0.0.1
%[8]s
disable_plaintext_auth = no
auth_failure_delay = 0
# Dovecot can miss a change made between IDLE's start and its inotify watch; poll as a fallback.
mailbox_idle_check_interval = 1 secs
default_internal_user = %[3]s
default_login_user = %[4]s
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/users
}
userdb {
  driver = static
  args = uid=%[5]d gid=%[6]d home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
# METADATA (RFC 5464), which roost offers by default.
imap_metadata = yes
mail_attribute_dict = file:%%h/Maildir/dovecot-attributes
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    port = %[7]d
  }
  inet_listener imaps {
    port = 0
  }
}
`, e.Dir, e.LogPath(), internal, login, e.UID, e.GID, e.Port, e.sslSettings())
	if os.Geteuid() != 0 {
		// Without root nothing can chroot.
		b.WriteString("service imap-login {\n  chroot =\n}\nservice anvil {\n  chroot =\n}\n")
	}
	b.WriteString(e.extra)
	return b.String()
}

// mailOwner is the uid/gid that owns mail: the current user, or when running as root an
// unprivileged account (Dovecot refuses mail access as uid 0).
func mailOwner(t testing.TB) (int, int) {
	t.Helper()
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid()
	}
	for _, name := range []string{"vmail", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return uid, gid
	}
	t.Fatal("no unprivileged account (vmail or nobody) to own mail")
	return 0, 0
}

// serviceUsers are default_internal_user and default_login_user.
func serviceUsers() (string, string) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err == nil {
			return u.Username, u.Username
		}
	}
	internal, login := "dovecot", "dovenull"
	if _, err := user.Lookup(internal); err != nil {
		internal = "nobody"
	}
	if _, err := user.Lookup(login); err != nil {
		login = "nobody"
	}
	return internal, login
}

// Ports are taken from a range below Linux's ephemeral ports (32768-60999), so outgoing client
// connections never hold them, and no port is handed out twice by this test process.
const portLow, portHigh = 20000, 32000

var portsUsed = struct {
	sync.Mutex
	m map[int]bool
}{m: map[int]bool{}}

// freePort picks a loopback port that is free now and was not given out before.
func freePort(t testing.TB) int {
	t.Helper()
	portsUsed.Lock()
	defer portsUsed.Unlock()
	for range 1000 {
		p := portLow + rand.IntN(portHigh-portLow)
		if portsUsed.m[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		portsUsed.m[p] = true
		return p
	}
	t.Fatal("no free loopback port")
	return 0
}

// server is one running Dovecot or roost.
type server struct {
	kind string // "dovecot" or "roost"
	env  *mailEnv
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // exit status, valid after done is closed
}

// Addr is the IMAP address.
func (s *server) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.env.Port) }

// serverKinds lists the servers the differential and client tests run against.
var serverKinds = []string{"dovecot", "roost"}

// startServer starts kind ("dovecot" or "roost") on env and waits for its IMAP greeting.
// A missing Dovecot skips (fails under CI); roost skips only while it does not build.
func startServer(t testing.TB, env *mailEnv, kind string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s, err := launch(t, env, kind)
		if err == nil {
			return s
		}
		logs := s.logs()
		if attempt < 3 && strings.Contains(strings.ToLower(logs), "address already in use") {
			t.Logf("%s: port %d taken, retrying on another port", kind, env.Port)
			env.Port = freePort(t)
			if err := env.write(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		msg := fmt.Sprintf("%s did not start: %v\n%s", kind, err, logs)
		if kind == "roost" && !inCI() {
			t.Skip("roost cannot start yet: " + msg)
		}
		t.Fatal(msg)
	}
}

// launch starts kind once and waits until it greets on env.Port.
func launch(t testing.TB, env *mailEnv, kind string) (*server, error) {
	t.Helper()
	var argv []string
	switch kind {
	case "dovecot":
		argv = []string{need(t, "dovecot"), "-F", "-c", env.Conf}
	case "roost":
		argv = []string{needRoost(t), "serve", "-F", "-c", env.Conf}
	default:
		t.Fatalf("unknown server kind %q", kind)
	}
	s := &server{kind: kind, env: env, out: &syncBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(argv[0], argv[1:]...)
	s.cmd.Dir = env.Dir
	s.cmd.Env = append(os.Environ(), "TZ=UTC")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", kind, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			s.dumpLogs(t)
		}
	})
	if err := s.waitReady(); err != nil {
		s.stop(t)
		return s, err
	}
	return s, nil
}

// waitReady polls the IMAP port until a server greeting arrives or the deadline passes.
func (s *server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.err)
		default:
		}
		last = probeGreeting(s.Addr(), deadline)
		if last == nil {
			select {
			case <-s.done: // someone else answered on our port
				return fmt.Errorf("exited: %v", s.err)
			default:
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.err)
		case <-time.After(20 * time.Millisecond): // poll interval, not a wait for an event
		}
	}
	return fmt.Errorf("no IMAP greeting on %s within %v: %v", s.Addr(), startTimeout, last)
}

// probeGreeting connects once and reads lines until the `* OK`/`* PREAUTH` greeting.
// Dovecot says "* OK Waiting for authentication process to respond.." first while auth starts.
func probeGreeting(addr string, deadline time.Time) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("read greeting: %w", err)
		}
		if strings.HasPrefix(line, "* OK Waiting for authentication") {
			continue
		}
		if strings.HasPrefix(line, "* OK") || strings.HasPrefix(line, "* PREAUTH") {
			fmt.Fprintf(c, "z LOGOUT\r\n")
			return nil
		}
		return fmt.Errorf("unexpected greeting %q", line)
	}
}

// stop ends the server with SIGTERM (SIGKILL after a bounded wait) and reaps it.
func (s *server) stop(t testing.TB) {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Errorf("%s ignored SIGTERM for 15s; killing it", s.kind)
		s.kill()
	}
	// Dovecot's children exit when the master goes; make sure nothing of ours is left.
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

// kill sends SIGKILL to the server's process group and reaps it.
func (s *server) kill() {
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

func (s *server) logs() string {
	log, _ := os.ReadFile(s.env.LogPath())
	return fmt.Sprintf("--- %s output:\n%s--- %s:\n%s", s.kind, s.out.String(), s.env.LogPath(), tail(string(log), 60))
}

func (s *server) dumpLogs(t testing.TB) { t.Log(s.logs()) }

func tail(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "")
}

// syncBuffer is a bytes.Buffer safe for the process's writers and the test's readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// writeSelfSigned writes a fresh ECDSA certificate for localhost/127.0.0.1 and its key, unless
// both files exist already.
func writeSelfSigned(certPath, keyPath string) error {
	if _, err := os.Stat(keyPath); err == nil {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}
