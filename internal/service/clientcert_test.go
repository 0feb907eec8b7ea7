package service

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// testCA is a certificate authority that issues client certificates.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

func (ca *testCA) client(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// clientHandshake returns the server's view of a handshake with the
// client certificates certs (none for nil).
func clientHandshake(t *testing.T, cfg *tls.Config, certs []tls.Certificate) (tls.ConnectionState, error) {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	type res struct {
		st  tls.ConnectionState
		err error
	}
	done := make(chan res, 1)
	cfg = cfg.Clone()
	cfg.SessionTicketsDisabled = true // no post-handshake write the client would have to read
	go func() {
		s := tls.Server(a, cfg)
		err := s.Handshake()
		st := s.ConnectionState()
		a.Close() // unblocks the client when the server refused it
		done <- res{st, err}
	}()
	cc := &tls.Config{InsecureSkipVerify: true}
	if certs != nil {
		// Send the certificate even when the server's CA list does not
		// name its issuer.
		cc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &certs[0], nil }
	}
	c := tls.Client(b, cc)
	c.Handshake()
	b.Close() // the server may still write an alert; nobody reads it
	r := <-done
	return r.st, r.err
}

// TestVerifyClientCert: ssl_verify_client_cert asks for a certificate and
// verifies one that is given against ssl_ca; none is still accepted (the
// login policy decides), one from another CA fails the handshake.
func TestVerifyClientCert(t *testing.T) {
	t.Parallel()
	def, err := SelfSigned([]string{"mail.example"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ca, other := newTestCA(t, "Test CA"), newTestCA(t, "Other CA")
	if _, err := NewTLSConfig(TLSOptions{Default: def, VerifyClientCert: true}); err == nil {
		t.Error("ssl_verify_client_cert without ssl_ca accepted")
	}
	cfg, err := NewTLSConfig(TLSOptions{Default: def, CAPEM: ca.pem, VerifyClientCert: true})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Errorf("ClientAuth = %v", cfg.ClientAuth)
	}
	st, err := clientHandshake(t, cfg, []tls.Certificate{ca.client(t, "alice")})
	if err != nil || len(st.VerifiedChains) == 0 || st.VerifiedChains[0][0].Subject.CommonName != "alice" {
		t.Errorf("certificate from ssl_ca: err %v, chains %d", err, len(st.VerifiedChains))
	}
	if st, err := clientHandshake(t, cfg, nil); err != nil || len(st.PeerCertificates) != 0 {
		t.Errorf("no certificate: %v", err)
	}
	if _, err := clientHandshake(t, cfg, []tls.Certificate{other.client(t, "mallory")}); err == nil {
		t.Error("certificate from another CA accepted")
	}
	plain, _ := NewTLSConfig(TLSOptions{Default: def, CAPEM: ca.pem})
	if plain.ClientAuth != tls.NoClientCert {
		t.Errorf("without ssl_verify_client_cert ClientAuth = %v", plain.ClientAuth)
	}
}
