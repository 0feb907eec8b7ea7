package loadgen

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Password is every benchmark user's password.
const Password = "benchpw"

// Users is the benchmark's passwd-file: the same file for both servers.
type Users struct {
	Cheap  []string // {PLAIN}
	Crypt  []string // {SHA512-CRYPT}, 5000 rounds
	Big    string   // owner of the bigbox mailbox ({PLAIN})
	Hashes map[string]string
}

// Env is one server's installation: dovecot.conf, the passwd-file, the
// users' homes and the server's runtime directories, all under Dir. Both
// servers of a comparison get an Env from the same template; only paths
// and ports differ.
type Env struct {
	Kind     string // "roost" or "dovecot"
	Dir      string
	Conf     string
	Ports    map[string]int // imap imaps pop3 pop3s lmtp
	UID, GID int
}

// Home is a user's home directory; Maildir is its mail root.
func (e *Env) Home(user string) string    { return filepath.Join(e.Dir, "home", user) }
func (e *Env) Maildir(user string) string { return filepath.Join(e.Home(user), "Maildir") }

// Addr is the loopback address of a listener.
func (e *Env) Addr(name string) string { return "127.0.0.1:" + strconv.Itoa(e.Ports[name]) }

// newEnv writes an installation for kind under dir.
func newEnv(dir, kind string, users *Users, cert, key []byte, extraConfig string) (*Env, error) {
	e := &Env{Kind: kind, Dir: dir, Ports: map[string]int{}}
	var err error
	if e.UID, e.GID, err = mailOwner(); err != nil {
		return nil, err
	}
	if err := e.pickPorts(); err != nil {
		return nil, err
	}
	for _, d := range []string{"", "home", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("create env: %w", err)
		}
		os.Chmod(filepath.Join(dir, d), 0o755)
		os.Chown(filepath.Join(dir, d), e.UID, e.GID)
	}
	files := map[string][]byte{"cert.pem": cert, "key.pem": key, "users": users.passwdFile(), "log/mail.log": nil}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", name, err)
		}
		os.Chown(p, e.UID, e.GID)
	}
	e.Conf = filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(e.Conf, []byte(e.config()+extraConfig), 0o644); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}
	return e, nil
}

// pickPorts chooses free ports for every listener.
func (e *Env) pickPorts() error {
	for _, name := range []string{"imap", "imaps", "pop3", "pop3s", "lmtp"} {
		p, err := freePort()
		if err != nil {
			return err
		}
		e.Ports[name] = p
	}
	return nil
}

// repickPorts chooses new ports and rewrites the configuration (with
// extraConfig appended, as newEnv wrote it), after a server found a port
// taken meanwhile.
func (e *Env) repickPorts(extraConfig string) error {
	if err := e.pickPorts(); err != nil {
		return err
	}
	if err := os.WriteFile(e.Conf, []byte(e.config()+extraConfig), 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

func (u *Users) passwdFile() []byte {
	var b strings.Builder
	for _, n := range u.all() {
		fmt.Fprintf(&b, "%s:%s::::::\n", n, u.Hashes[n])
	}
	return []byte(b.String())
}

func (u *Users) all() []string {
	out := append([]string{}, u.Cheap...)
	out = append(out, u.Crypt...)
	return append(out, u.Big)
}

// config renders dovecot.conf. Settings are Dovecot's defaults except
// what the benchmark needs: loopback listeners on free ports, both TLS
// and plain, plaintext auth allowed, no auth failure delay, and a higher
// mail_max_userip_connections for the idle workload (all sessions come
// from 127.0.0.1). mail_fsync = optimized is spelled out.
func (e *Env) config() string {
	internal, login := serviceUsers()
	var b strings.Builder
	fmt.Fprintf(&b, `# roost benchmark instance (written by internal/loadgen)
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/log/mail.log
protocols = imap pop3 lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
disable_plaintext_auth = no
auth_failure_delay = 0
mail_fsync = optimized
mail_max_userip_connections = 100000
default_internal_user = %[2]s
default_login_user = %[3]s
passdb {
  driver = passwd-file
  args = %[1]s/users
}
userdb {
  driver = static
  args = uid=%[4]d gid=%[5]d home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    port = %[6]d
  }
  inet_listener imaps {
    port = %[7]d
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[8]d
  }
  inet_listener pop3s {
    port = %[9]d
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %[10]d
  }
}
`, e.Dir, internal, login, e.UID, e.GID, e.Ports["imap"], e.Ports["imaps"], e.Ports["pop3"], e.Ports["pop3s"], e.Ports["lmtp"])
	return b.String()
}

// mailOwner is the uid/gid owning mail: the current user, or as root an
// unprivileged account (Dovecot refuses mail access as uid 0).
func mailOwner() (int, int, error) {
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid(), nil
	}
	for _, name := range []string{"vmail", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return uid, gid, nil
	}
	return 0, 0, fmt.Errorf("no unprivileged account (vmail or nobody) to own mail")
}

// serviceUsers are default_internal_user and default_login_user.
func serviceUsers() (string, string) {
	if os.Geteuid() != 0 {
		if u, err := user.Current(); err == nil {
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

// The port is taken below the kernel's ephemeral range (32768 and up on
// Linux): a port from that range can be handed to some client
// connection's local end before the server binds it — the load
// generator makes thousands per second — and the server then fails with
// "address already in use".
func freePort() (int, error) {
	for range 64 {
		p := 10000 + mrand.IntN(10000) // e2e takes 20000-31999
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// selfSigned returns a throwaway ECDSA P-256 certificate and key (PEM).
func selfSigned() ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate: %w", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), nil
}

// Server is one running roost or Dovecot.
type Server struct {
	Env  *Env
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// PID is the server's main process.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// startServer starts bin on env (roost as `roost serve -F -c`, Dovecot as
// `dovecot -F -c`) with extra environment, and waits for the IMAP greeting.
func startServer(ctx context.Context, env *Env, bin string, extraEnv []string) (*Server, error) {
	args := []string{"-F", "-c", env.Conf}
	if env.Kind == "roost" {
		args = append([]string{"serve"}, args...)
	}
	out, err := os.Create(filepath.Join(env.Dir, "log", env.Kind+".out"))
	if err != nil {
		return nil, fmt.Errorf("create server output: %w", err)
	}
	defer out.Close()
	s := &Server{Env: env, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = env.Dir
	s.cmd.Env = append(os.Environ(), extraEnv...)
	s.cmd.Stdout, s.cmd.Stderr = out, out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", env.Kind, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(env.Dir, "log", env.Kind+".out"))
		return nil, fmt.Errorf("%s did not start: %w\n%s", env.Kind, err, log)
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.err)
		default:
		}
		c, err := dialIMAP(ctx, Target{Addr: s.Env.Addr("imap")})
		if err == nil {
			c.Close()
			return nil
		}
		last = err
		select {
		case <-s.done:
			return fmt.Errorf("exited: %v", s.err)
		case <-time.After(20 * time.Millisecond): // poll interval while the server starts
		}
	}
	return fmt.Errorf("no IMAP greeting within 30s: %v", last)
}

// Stop ends the server with SIGTERM, SIGKILL after 20 s, and reaps it.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// Serves reports whether something answers protocol proto (imap, pop3,
// lmtp) on env's listener with the protocol's greeting.
func Serves(ctx context.Context, env *Env, proto string) bool {
	c, err := dial(ctx, Target{Addr: env.Addr(proto)})
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return false
	}
	switch proto {
	case "pop3":
		return strings.HasPrefix(line, "+OK")
	case "lmtp":
		return strings.HasPrefix(line, "220")
	}
	return strings.HasPrefix(line, "* OK")
}
