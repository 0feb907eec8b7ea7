// Package ldaptest starts a private OpenLDAP slapd for tests: generated
// slapd.conf and database in a temporary directory, listening on a
// loopback port with StartTLS (a generated certificate), run as the
// openldap account when the tests run as root, and stopped when the test
// ends. The system's slapd is never touched. The directory is loaded
// offline with slapadd before the server starts.
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Directory constants of the test tree.
const (
	Suffix     = "dc=example,dc=com"
	People     = "ou=people," + Suffix
	RootDN     = "cn=admin," + Suffix
	RootPW     = "admin-secret"
	ServiceDN  = "cn=dovecot," + Suffix // may read userPassword
	ServicePW  = "dovecot-secret"
	startLimit = 60 * time.Second
)

// Server is a running private slapd.
type Server struct {
	Dir    string
	Port   int
	CACert string // PEM of the server's self-signed certificate

	cmd  *exec.Cmd
	log  bytes.Buffer
	done chan struct{}
	once sync.Once
}

// URI is the server's ldap:// URI.
func (s *Server) URI() string { return fmt.Sprintf("ldap://127.0.0.1:%d", s.Port) }

// Missing skips, or under CI=true fails.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Start writes the configuration, loads ldif (entries under People; the
// base entries are added here) and starts slapd.
func Start(t testing.TB, ldif string) *Server {
	t.Helper()
	slapd, err := exec.LookPath("slapd")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/slapd"); err2 != nil {
			Missing(t, "slapd not installed (scripts/setup-deps installs slapd)")
		}
		slapd = "/usr/sbin/slapd"
	}
	cred := account(t)
	s := &Server{Port: freePort(t), done: make(chan struct{})}
	s.Dir = tempDir(t, cred)
	conf := s.writeFiles(t, cred)
	add := filepath.Join(filepath.Dir(slapd), "slapadd")
	s.run(t, cred, add, "-f", conf, "-q", "-l", s.write(t, cred, "data.ldif", baseLDIF()+ldif))
	s.cmd = exec.Command(slapd, "-f", conf, "-h", s.URI()+"/", "-d", "0")
	s.cmd.Stdout, s.cmd.Stderr = &s.log, &s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Stop)
	s.waitReady(t)
	return s
}

// Stop ends slapd (idempotent).
func (s *Server) Stop() {
	s.once.Do(func() {
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

func (s *Server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(startLimit)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("slapd exited during start-up:\n%s", s.log.String())
		default:
		}
		c, err := ldap.DialURL(s.URI(), ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
		if err == nil {
			err = c.Bind(RootDN, RootPW)
			c.Close()
			if err == nil {
				return
			}
		}
		last = err
		select {
		case <-s.done:
		case <-time.After(50 * time.Millisecond): // poll interval, not a wait for an event
		}
	}
	t.Fatalf("slapd not ready after %v: %v", startLimit, last)
}

func baseLDIF() string {
	return "dn: " + Suffix + "\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n" +
		"dn: " + People + "\nobjectClass: organizationalUnit\nou: people\n\n" +
		"dn: " + ServiceDN + "\nobjectClass: person\ncn: dovecot\nsn: dovecot\nuserPassword: " + ServicePW + "\n\n"
}

func (s *Server) writeFiles(t testing.TB, cred *syscall.Credential) string {
	t.Helper()
	cert, key := selfSigned(t)
	s.CACert = string(cert)
	certPath := s.write(t, cred, "cert.pem", string(cert))
	keyPath := s.write(t, cred, "key.pem", string(key))
	db := filepath.Join(s.Dir, "db")
	if err := os.Mkdir(db, 0o700); err != nil {
		t.Fatal(err)
	}
	chown(t, db, cred)
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile %[1]s/slapd.pid
argsfile %[1]s/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile %[2]s
TLSCertificateKeyFile %[3]s
database mdb
maxsize 268435456
suffix "%[4]s"
rootdn "%[5]s"
rootpw %[6]s
directory %[7]s
dbnosync
index uid,mail eq
limits * size.soft=500 size.prtotal=unlimited
access to attrs=userPassword by dn.exact="%[8]s" read by anonymous auth by * none
access to * by * read
`, s.Dir, certPath, keyPath, Suffix, RootDN, RootPW, db, ServiceDN)
	return s.write(t, cred, "slapd.conf", conf)
}

func (s *Server) write(t testing.TB, cred *syscall.Credential, name, data string) string {
	t.Helper()
	p := filepath.Join(s.Dir, name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	chown(t, p, cred)
	return p
}

func (s *Server) run(t testing.TB, cred *syscall.Credential, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(name), err, out)
	}
}

func chown(t testing.TB, p string, cred *syscall.Credential) {
	t.Helper()
	if cred != nil {
		if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
}

func account(t testing.TB) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("openldap")
	if err != nil {
		Missing(t, "no openldap account to run slapd as: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

func tempDir(t testing.TB, cred *syscall.Credential) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "roost-slapd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	chown(t, dir, cred)
	return dir
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}
