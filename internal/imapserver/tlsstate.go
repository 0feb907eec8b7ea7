package imapserver

import (
	"crypto/tls"
)

// recordingTLSConfig returns a per-connection copy of base that stores the
// DER leaf certificate the server presents in *leaf, for SCRAM -PLUS
// tls-server-end-point channel binding (RFC 5929 section 4): the
// connection state of a server does not carry its own certificate. It
// chooses the certificate as crypto/tls does with base.
func recordingTLSConfig(base *tls.Config, leaf *[]byte) *tls.Config {
	cfg := base.Clone()
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cert, err := chooseCertificate(base, hello)
		if cert != nil && len(cert.Certificate) > 0 {
			*leaf = cert.Certificate[0]
		}
		return cert, err
	}
	if base.GetConfigForClient != nil {
		cfg.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			sub, err := base.GetConfigForClient(hello)
			if sub == nil || err != nil {
				return nil, err
			}
			return recordingTLSConfig(sub, leaf), nil
		}
	}
	return cfg
}

// chooseCertificate is crypto/tls's choice for base: GetCertificate, then
// the first of Certificates the client supports, then the first.
func chooseCertificate(base *tls.Config, hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if base.GetCertificate != nil {
		cert, err := base.GetCertificate(hello)
		if cert != nil || err != nil {
			return cert, err
		}
	}
	for i := range base.Certificates {
		if len(base.Certificates) == 1 || hello.SupportsCertificate(&base.Certificates[i]) == nil {
			return &base.Certificates[i], nil
		}
	}
	if len(base.Certificates) > 0 {
		return &base.Certificates[0], nil
	}
	return nil, nil // crypto/tls reports the missing certificate
}
