package sasl

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ChannelBinding returns the channel binding data of a type
// ("tls-unique", "tls-exporter", "tls-server-end-point"; RFC 5929, RFC
// 9266), or false when the connection cannot give that type.
type ChannelBinding func(cbType string) ([]byte, bool)

// TLSChannelBinding answers channel binding types from a server-side TLS
// connection state and the server's leaf certificate (DER; may be nil,
// then tls-server-end-point is unavailable).
func TLSChannelBinding(cs *tls.ConnectionState, serverCert []byte) ChannelBinding {
	return func(typ string) ([]byte, bool) {
		if cs == nil {
			return nil, false
		}
		switch typ {
		case "tls-unique":
			if cs.Version >= tls.VersionTLS13 || len(cs.TLSUnique) == 0 {
				return nil, false
			}
			return cs.TLSUnique, true
		case "tls-exporter":
			if cs.Version < tls.VersionTLS13 && !cs.DidResume && cs.TLSUnique == nil {
				return nil, false
			}
			b, err := cs.ExportKeyingMaterial("EXPORTER-Channel-Binding", nil, 32)
			return b, err == nil
		case "tls-server-end-point":
			return serverEndPoint(serverCert)
		}
		return nil, false
	}
}

// serverEndPoint hashes the certificate with its signature's hash, SHA-256
// for MD5 and SHA-1 (RFC 5929 section 4.1).
func serverEndPoint(der []byte) ([]byte, bool) {
	if der == nil {
		return nil, false
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, false
	}
	var h hash.Hash
	switch c.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write(der)
	return h.Sum(nil), true
}

// scram is SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), with or
// without channel binding (-PLUS). Credentials are Dovecot's
// "iter,salt,StoredKey,ServerKey" (base64 fields).
type scram struct {
	name  string
	plus  bool
	newH  func() hash.Hash
	creds CredentialsFunc
	cfg   Config
	step  int

	gs2Header, clientFirstBare, serverFirst, nonce string
	storedKey, serverKey                           []byte
	cbData                                         []byte
	fixedNonce                                     string // tests: the RFC's server nonce
}

// NewSCRAM returns a SCRAM exchange for one of the four SCRAM names.
func NewSCRAM(name string, cfg Config, creds CredentialsFunc) (Mechanism, error) {
	m := &scram{name: name, creds: creds, cfg: cfg}
	switch name {
	case SCRAMSHA1, SCRAMSHA1Plus:
		m.newH = sha1.New
	case SCRAMSHA256, SCRAMSHA256Plus:
		m.newH = sha256.New
	default:
		return nil, fmt.Errorf("sasl: %q is not a SCRAM mechanism", name)
	}
	m.plus = strings.HasSuffix(name, "-PLUS")
	return m, nil
}

func (m *scram) Name() string { return m.name }

func (m *scram) scheme() string { return strings.TrimSuffix(m.name, "-PLUS") }

func (m *scram) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	if len(resp) > MaxResponse {
		return nil, false, fmt.Errorf("scram: response too long: %w", ErrMalformed)
	}
	switch m.step {
	case 0:
		if resp == nil {
			return []byte{}, false, nil // the client-first message comes next
		}
		m.step = 1
		return m.clientFirst(ctx, resp)
	case 1:
		m.step = 2
		return m.clientFinal(resp)
	}
	return nil, false, ErrUnexpected
}

func (m *scram) clientFirst(ctx context.Context, msg []byte) ([]byte, bool, error) {
	if !utf8.Valid(msg) || bytes.IndexByte(msg, 0) >= 0 {
		return nil, false, fmt.Errorf("scram: client-first not UTF-8: %w", ErrMalformed)
	}
	parts := strings.SplitN(string(msg), ",", 3)
	if len(parts) != 3 {
		return nil, false, fmt.Errorf("scram: short client-first: %w", ErrMalformed)
	}
	if err := m.channelFlag(parts[0]); err != nil {
		return nil, false, err
	}
	authzid := ""
	if parts[1] != "" {
		z, ok := strings.CutPrefix(parts[1], "a=")
		if !ok {
			return nil, false, fmt.Errorf("scram: bad authzid: %w", ErrMalformed)
		}
		var err error
		if authzid, err = unescapeSASLName(z); err != nil {
			return nil, false, err
		}
	}
	m.gs2Header = parts[0] + "," + parts[1] + ","
	m.clientFirstBare = parts[2]
	attrs := strings.Split(parts[2], ",")
	if len(attrs) < 2 || strings.HasPrefix(attrs[0], "m=") {
		return nil, false, fmt.Errorf("scram: missing n= and r=, or unsupported m=: %w", ErrMalformed)
	}
	uenc, ok1 := strings.CutPrefix(attrs[0], "n=")
	cnonce, ok2 := strings.CutPrefix(attrs[1], "r=")
	if !ok1 || !ok2 || uenc == "" || cnonce == "" || strings.ContainsAny(cnonce, ",") {
		return nil, false, fmt.Errorf("scram: bad n= or r=: %w", ErrMalformed)
	}
	user, err := unescapeSASLName(uenc)
	if err != nil {
		return nil, false, err
	}
	if authzid == user {
		authzid = ""
	}
	raw, err := m.creds(ctx, authzid, user, m.scheme())
	if err != nil {
		return nil, false, err
	}
	iter, salt, err := m.parseCreds(raw)
	if err != nil {
		return nil, false, err
	}
	snonce, err := m.cfg.nonce(24)
	if err != nil {
		return nil, false, err
	}
	if m.fixedNonce != "" {
		snonce = m.fixedNonce
	}
	m.nonce = cnonce + snonce
	m.serverFirst = "r=" + m.nonce + ",s=" + salt + ",i=" + strconv.Itoa(iter)
	return []byte(m.serverFirst), false, nil
}

// channelFlag checks the gs2-cbind-flag against the mechanism (RFC 5802
// section 6) and fetches the binding data for "p=".
func (m *scram) channelFlag(f string) error {
	switch {
	case f == "n":
		if m.plus {
			return fmt.Errorf("scram: -PLUS mechanism without channel binding: %w", ErrMalformed)
		}
	case f == "y":
		if m.plus || m.cfg.PlusOffered {
			return fmt.Errorf("scram: client thinks the server cannot bind channels (downgrade): %w", ErrMalformed)
		}
	case strings.HasPrefix(f, "p="):
		if !m.plus {
			return fmt.Errorf("scram: channel binding requested on a non-PLUS mechanism: %w", ErrMalformed)
		}
		if m.cfg.ChannelBinding == nil {
			return fmt.Errorf("scram: no channel binding on this connection: %w", ErrMalformed)
		}
		data, ok := m.cfg.ChannelBinding(f[2:])
		if !ok {
			return fmt.Errorf("scram: channel binding type %q not available: %w", f[2:], ErrMalformed)
		}
		m.cbData = data
	default:
		return fmt.Errorf("scram: bad gs2-cbind-flag: %w", ErrMalformed)
	}
	return nil
}

// parseCreds reads "iter,salt,StoredKey,ServerKey".
func (m *scram) parseCreds(raw []byte) (int, string, error) {
	f := strings.Split(string(raw), ",")
	if len(f) != 4 {
		return 0, "", fmt.Errorf("scram: stored credentials: want 4 fields, have %d", len(f))
	}
	iter, err := strconv.Atoi(f[0])
	if err != nil || iter < 1 {
		return 0, "", fmt.Errorf("scram: stored credentials: bad iteration count")
	}
	if _, err := base64.StdEncoding.DecodeString(f[1]); err != nil {
		return 0, "", fmt.Errorf("scram: stored credentials: bad salt")
	}
	sk, err1 := base64.StdEncoding.DecodeString(f[2])
	vk, err2 := base64.StdEncoding.DecodeString(f[3])
	size := m.newH().Size()
	if err1 != nil || err2 != nil || len(sk) != size || len(vk) != size {
		return 0, "", fmt.Errorf("scram: stored credentials: bad keys")
	}
	m.storedKey, m.serverKey = sk, vk
	return iter, f[1], nil
}

func (m *scram) clientFinal(msg []byte) ([]byte, bool, error) {
	s := string(msg)
	i := strings.LastIndex(s, ",p=")
	if i < 0 {
		return nil, false, fmt.Errorf("scram: client-final without proof: %w", ErrMalformed)
	}
	withoutProof, proofB64 := s[:i], s[i+3:]
	attrs := strings.Split(withoutProof, ",")
	if len(attrs) < 2 {
		return nil, false, fmt.Errorf("scram: short client-final: %w", ErrMalformed)
	}
	cb, ok1 := strings.CutPrefix(attrs[0], "c=")
	nonce, ok2 := strings.CutPrefix(attrs[1], "r=")
	if !ok1 || !ok2 {
		return nil, false, fmt.Errorf("scram: client-final needs c= and r=: %w", ErrMalformed)
	}
	wantCB := base64.StdEncoding.EncodeToString(append([]byte(m.gs2Header), m.cbData...))
	if subtle.ConstantTimeCompare([]byte(cb), []byte(wantCB)) != 1 {
		return nil, false, fmt.Errorf("scram: channel binding mismatch: %w", ErrMismatch)
	}
	if nonce != m.nonce {
		return nil, false, fmt.Errorf("scram: nonce mismatch: %w", ErrMalformed)
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != len(m.storedKey) {
		return nil, false, fmt.Errorf("scram: bad proof: %w", ErrMalformed)
	}
	authMsg := m.clientFirstBare + "," + m.serverFirst + "," + withoutProof
	sig := m.hmac(m.storedKey, authMsg)
	key := make([]byte, len(proof))
	for i := range proof {
		key[i] = proof[i] ^ sig[i]
	}
	h := m.newH()
	h.Write(key)
	if subtle.ConstantTimeCompare(h.Sum(nil), m.storedKey) != 1 {
		return nil, false, ErrMismatch
	}
	v := base64.StdEncoding.EncodeToString(m.hmac(m.serverKey, authMsg))
	return []byte("v=" + v), true, nil
}

func (m *scram) hmac(key []byte, msg string) []byte {
	mac := hmac.New(m.newH, key)
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

// unescapeSASLName decodes "=2C" and "=3D" (RFC 5802 section 5.1); any
// other '=' is malformed.
func unescapeSASLName(s string) (string, error) {
	if !strings.Contains(s, "=") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", fmt.Errorf("scram: bad escape in saslname: %w", ErrMalformed)
		}
		i += 2
	}
	return b.String(), nil
}
