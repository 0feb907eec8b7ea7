// Package conntest holds what the protocol servers' tests share: a
// TestMain that fails the run on leaked goroutines, a goroutine-safe log
// sink, a fresh self-signed TLS pair and the client side of STARTTLS. It is imported only from _test.go files.
package conntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Main runs the tests and fails the run when goroutines of pkg (an
// import path, "roost/internal/imapserver") outlive them: a connection
// or reader that was never waited for. Call it from TestMain.
func Main(m *testing.M, pkg string) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(pkg); leaked != "" {
			fmt.Fprintf(os.Stderr, "leaked goroutines:\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines returns the stacks of pkg's goroutines still running
// after a bounded wait for closing connections to finish.
func leakedGoroutines(pkg string) string {
	var stacks string
	for i := 0; i < 50; i++ {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		stacks = ""
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if strings.Contains(g, pkg+".") && !strings.Contains(g, "leakedGoroutines") &&
				!strings.Contains(g, "testing.(*M)") {
				stacks += g + "\n\n"
			}
		}
		if stacks == "" {
			return ""
		}
		time.Sleep(20 * time.Millisecond) // let closing connections finish, bounded
	}
	return stacks
}

// TLSConfig returns a server configuration with a fresh self-signed
// certificate for host, valid an hour either side of now (the test's
// clock: synctest's inside a bubble), and a client configuration that
// trusts it.
func TLSConfig(t testing.TB, host string) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host},
		DNSNames: []string{host}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: host}
	return server, client
}

// StartTLS runs a client TLS handshake on nc, bounded by ten seconds,
// and returns the TLS connection.
func StartTLS(t testing.TB, nc net.Conn, cfg *tls.Config) *tls.Conn {
	t.Helper()
	tc := tls.Client(nc, cfg)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	nc.SetDeadline(time.Time{})
	return tc
}

// LogBuffer is a goroutine-safe log sink: servers write to it from their
// connection goroutines while the test reads it.
type LogBuffer struct {
	mu sync.Mutex // guards b
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
