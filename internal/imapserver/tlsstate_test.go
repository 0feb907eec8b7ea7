package imapserver

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"sync"
	"testing"
)

// ciRecorder is an Authenticator that records the ConnInfo of the last
// LOGIN.
type ciRecorder struct {
	Authenticator
	mu sync.Mutex // guards ci
	ci ConnInfo
}

func (r *ciRecorder) Login(ctx context.Context, ci ConnInfo, user, pass string) (*Session, error) {
	r.mu.Lock()
	r.ci = ci
	r.mu.Unlock()
	return r.Authenticator.Login(ctx, ci, user, pass)
}

func (r *ciRecorder) last() ConnInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ci
}

func recordCI(rec *ciRecorder) func(*Options) {
	return func(o *Options) { rec.Authenticator, o.Auth = o.Auth, rec }
}

// checkTLSInfo: after the handshake ConnInfo carries the TLS state and
// the leaf certificate the server presented, and login.ConnInfo gets
// both.
func checkTLSInfo(t *testing.T, ci ConnInfo, wantLeaf []byte) {
	t.Helper()
	if !ci.TLS || ci.TLSState == nil || !ci.TLSState.HandshakeComplete || ci.TLSState.ServerName != "imap.test" {
		t.Fatalf("TLS state: %+v", ci.TLSState)
	}
	if !bytes.Equal(ci.ServerCert, wantLeaf) {
		t.Fatalf("ServerCert is not the presented leaf")
	}
	if lci := loginConnInfo(ci); lci.TLSState != ci.TLSState || !bytes.Equal(lci.ServerCert, wantLeaf) {
		t.Fatalf("login.ConnInfo lacks the TLS state: %+v", lci)
	}
}

func TestTLSStateStartTLS(t *testing.T) {
	t.Parallel()
	srvCfg, cliCfg := testTLSConfig(t)
	rec := &ciRecorder{}
	ts := newTestServer(t, func(o *Options) { o.TLS = srvCfg }, recordCI(rec))
	c, _ := ts.dial()
	c.cmd("a LOGIN alice wrong").status("NO [AUTHENTICATIONFAILED]")
	if ci := rec.last(); ci.TLSState != nil || ci.ServerCert != nil {
		t.Fatalf("TLS state before STARTTLS: %+v", ci)
	}
	c.cmd("b STARTTLS").ok()
	c.startTLS(cliCfg)
	c.cmd("c LOGIN alice secret").ok()
	checkTLSInfo(t, rec.last(), srvCfg.Certificates[0].Certificate[0])
}

func TestTLSStateImplicit(t *testing.T) {
	t.Parallel()
	srvCfg, cliCfg := testTLSConfig(t)
	// Certificates chosen by a callback, as internal/service does for SNI.
	cert := srvCfg.Certificates[0]
	srvCfg = &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }}
	rec := &ciRecorder{}
	ts := newTestServer(t, func(o *Options) { o.TLS = srvCfg; o.ImplicitTLS = true }, recordCI(rec))
	cli, srv := net.Pipe()
	ts.srv.ServeConn(srv)
	t.Cleanup(func() { cli.Close() })
	c := &tconn{t: t, nc: cli}
	c.startTLS(cliCfg)
	c.expect("* OK [CAPABILITY ")
	c.cmd("a LOGIN alice secret").ok()
	checkTLSInfo(t, rec.last(), cert.Certificate[0])
}

// TestRecordingTLSConfigForClient: a config chosen per client
// (GetConfigForClient) records its certificate too.
func TestRecordingTLSConfigForClient(t *testing.T) {
	t.Parallel()
	inner, cliCfg := testTLSConfig(t)
	base := &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return inner, nil }}
	var leaf []byte
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	errc := make(chan error, 1)
	go func() { errc <- tls.Server(a, recordingTLSConfig(base, &leaf)).Handshake() }()
	if err := tls.Client(b, cliCfg).Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(leaf, inner.Certificates[0].Certificate[0]) {
		t.Fatal("leaf not recorded")
	}
}
