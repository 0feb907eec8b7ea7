package service

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestSNISelectsCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	def, err := SelfSigned([]string{"default.example"}, now)
	if err != nil {
		t.Fatal(err)
	}
	other, err := SelfSigned([]string{"mail.example.org"}, now)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := NewTLSConfig(TLSOptions{Default: def, Select: func(name string, _ netip.Addr) (CertKey, bool) {
		if name == "mail.example.org" {
			return other, true
		}
		return CertKey{}, false
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ sni, wantCN string }{
		{"mail.example.org", "mail.example.org"},
		{"MAIL.example.org", "mail.example.org"},
		{"unknown.example", "default.example"},
		{"", "default.example"},
	} {
		if got := handshakeCN(t, cfg, tc.sni); got != tc.wantCN {
			t.Errorf("SNI %q: got certificate %q, want %q", tc.sni, got, tc.wantCN)
		}
	}
}

func handshakeCN(t *testing.T, cfg *tls.Config, sni string) string {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		s := tls.Server(a, cfg)
		_ = s.Handshake()
	}()
	c := tls.Client(b, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
	if err := c.Handshake(); err != nil {
		t.Fatalf("handshake: %v", err)
	}
	certs := c.ConnectionState().PeerCertificates
	return certs[0].Subject.CommonName
}

func TestMinProtocol(t *testing.T) {
	t.Parallel()
	def, _ := SelfSigned([]string{"x"}, time.Now())
	if _, err := NewTLSConfig(TLSOptions{Default: def, MinProtocol: "TLSv9"}); err == nil {
		t.Error("want error for bad ssl_min_protocol")
	}
	cfg, err := NewTLSConfig(TLSOptions{Default: def})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("default MinVersion = %x, want TLS 1.2", cfg.MinVersion)
	}
	if _, err := NewTLSConfig(TLSOptions{Default: CertKey{CertPEM: "junk", KeyPEM: "junk"}}); err == nil {
		t.Error("want error for bad PEM")
	}
}

func TestListenInetAndUnix(t *testing.T) {
	t.Parallel()
	bs, err := ListenInet(&InetListener{Service: "imap-login", Name: "imap", Port: freePort(t)}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 {
		t.Fatalf("got %d listeners", len(bs))
	}
	bs[0].Close()
	none, err := ListenInet(&InetListener{Port: 0}, "127.0.0.1")
	if err != nil || len(none) != 0 {
		t.Fatalf("port 0: %v %v", none, err)
	}
	path := filepath.Join(t.TempDir(), "sock")
	u, err := ListenUnix(&UnixListener{Service: "auth", Path: path, Mode: 0o660})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	if _, err := ListenUnix(&UnixListener{Service: "auth", Path: path}); err == nil {
		t.Error("second listener on a live socket must fail")
	}
	u.Close()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestCertFromPEM(t *testing.T) {
	t.Parallel()
	ck, _ := SelfSigned([]string{"127.0.0.1", "localhost"}, time.Now())
	cert, err := tls.X509KeyPair([]byte(ck.CertPEM), []byte(ck.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	x, _ := x509.ParseCertificate(cert.Certificate[0])
	if len(x.IPAddresses) != 1 || len(x.DNSNames) != 1 {
		t.Errorf("SANs: %v %v", x.IPAddresses, x.DNSNames)
	}
}
