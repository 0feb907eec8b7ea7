package service

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
)

// TLSMode is the `ssl` setting.
type TLSMode int

// ssl = no | yes | required.
const (
	TLSNo TLSMode = iota
	TLSYes
	TLSRequired
)

// ParseTLSMode parses the value of `ssl`.
func ParseTLSMode(s string) (TLSMode, error) {
	switch s {
	case "no":
		return TLSNo, nil
	case "yes":
		return TLSYes, nil
	case "required":
		return TLSRequired, nil
	}
	return 0, fmt.Errorf("invalid ssl value %q (want no, yes or required)", s)
}

// CertKey is a certificate chain and its key, PEM-encoded, as the values of
// `ssl_cert = </path` and `ssl_key = </path` hold them.
type CertKey struct {
	CertPEM, KeyPEM string
}

// TLSOptions is the TLS part of the settings. Certificates other than the
// default are looked up per connection through Select, which the
// composition root answers from `local_name NAME {}` and `local IP {}`
// filters.
type TLSOptions struct {
	Default     CertKey
	CAPEM       string // ssl_ca: client certificate authorities
	MinProtocol string // ssl_min_protocol: SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, ANY, LATEST
	CipherList  string // ssl_cipher_list (OpenSSL syntax; Go chooses its own secure suites)
	// VerifyClientCert is ssl_verify_client_cert: clients are asked for a
	// certificate, and one that is given must chain to ssl_ca (a client
	// without one still connects, as Dovecot's SSL_VERIFY_PEER without
	// FAIL_IF_NO_PEER_CERT; auth_ssl_require_client_cert refuses it at
	// login).
	VerifyClientCert bool
	// Select returns the certificate for an SNI name and local address,
	// or ok=false for the default.
	Select func(serverName string, local netip.Addr) (ck CertKey, ok bool)
}

var tlsVersions = map[string]uint16{
	"SSLv3": tls.VersionTLS10, "TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11,
	"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13, "ANY": tls.VersionTLS10,
	"LATEST": tls.VersionTLS13, "": tls.VersionTLS12,
}

// NewTLSConfig builds a server tls.Config. Parsed certificates are cached
// by their PEM text, so SIGHUP reloads reuse them when unchanged.
func NewTLSConfig(o TLSOptions) (*tls.Config, error) {
	minVer, ok := tlsVersions[o.MinProtocol]
	if !ok {
		return nil, fmt.Errorf("invalid ssl_min_protocol %q", o.MinProtocol)
	}
	if o.Default.CertPEM == "" || o.Default.KeyPEM == "" {
		return nil, errors.New("ssl enabled but ssl_cert or ssl_key not set")
	}
	cache := &certCache{m: map[CertKey]*tls.Certificate{}}
	def, err := cache.get(o.Default)
	if err != nil {
		return nil, fmt.Errorf("ssl_cert/ssl_key: %w", err)
	}
	cfg := &tls.Config{MinVersion: minVer}
	if o.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(o.CAPEM)) {
			return nil, errors.New("ssl_ca: no certificates found")
		}
		cfg.ClientCAs = pool
	}
	if o.VerifyClientCert {
		if cfg.ClientCAs == nil {
			return nil, errors.New("ssl_verify_client_cert set, but ssl_ca not")
		}
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if o.Select == nil {
			return def, nil
		}
		var local netip.Addr
		if hello.Conn != nil {
			if ap, err := netip.ParseAddrPort(hello.Conn.LocalAddr().String()); err == nil {
				local = ap.Addr().Unmap()
			}
		}
		ck, ok := o.Select(strings.ToLower(hello.ServerName), local)
		if !ok {
			return def, nil
		}
		return cache.get(ck)
	}
	return cfg, nil
}

type certCache struct {
	mu sync.Mutex // guards m
	m  map[CertKey]*tls.Certificate
}

func (c *certCache) get(ck CertKey) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cert, ok := c.m[ck]; ok {
		return cert, nil
	}
	cert, err := tls.X509KeyPair([]byte(ck.CertPEM), []byte(ck.KeyPEM))
	if err != nil {
		return nil, err
	}
	c.m[ck] = &cert
	return &cert, nil
}

// LocalAddr returns the local address of c without the port, unmapped.
func LocalAddr(c net.Conn) netip.AddrPort {
	return addrPort(c.LocalAddr())
}

// RemoteAddr returns the remote address of c, unmapped. Unix sockets give
// the zero value.
func RemoteAddr(c net.Conn) netip.AddrPort {
	return addrPort(c.RemoteAddr())
}

func addrPort(a net.Addr) netip.AddrPort {
	if a == nil {
		return netip.AddrPort{}
	}
	if tcp, ok := a.(*net.TCPAddr); ok {
		ap := tcp.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
