package sasl

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// ErrMismatch reports credentials that were found but do not match the
// client's proof. The caller turns it into "password mismatch".
var ErrMismatch = errors.New("sasl: credentials do not match")

// CredentialsFunc returns the stored credentials of scheme (a pwscheme
// name: "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-256") for authcid; authzid
// is set for a master-user login. Its errors pass through unchanged.
type CredentialsFunc func(ctx context.Context, authzid, authcid, scheme string) ([]byte, error)

// Config is what the challenge-response mechanisms take from their
// environment. The zero value works: crypto/rand, time.Now, "localhost".
type Config struct {
	Rand     io.Reader        // nonces
	Now      func() time.Time // CRAM-MD5 challenge
	Hostname string           // CRAM-MD5 challenge, DIGEST-MD5 default realm
	// Realms are offered in the DIGEST-MD5 challenge (auth_realms).
	Realms []string
	// ChannelBinding answers -PLUS mechanisms' channel binding types.
	ChannelBinding ChannelBinding
	// PlusOffered is true when the server advertises -PLUS mechanisms on
	// this connection: a SCRAM client that says it could bind but thinks
	// the server cannot ("y") is then a downgrade (RFC 5802 section 6).
	PlusOffered bool
}

func (c *Config) rand() io.Reader {
	if c.Rand == nil {
		return rand.Reader
	}
	return c.Rand
}

func (c *Config) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Config) hostname() string {
	if c.Hostname == "" {
		return "localhost"
	}
	return c.Hostname
}

// nonce returns n random bytes as printable characters without ',' (a
// SCRAM and DIGEST-MD5 nonce).
func (c *Config) nonce(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(c.rand(), b); err != nil {
		return "", fmt.Errorf("sasl: nonce: %w", err)
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// cramMD5 is CRAM-MD5 (RFC 2195).
type cramMD5 struct {
	creds     CredentialsFunc
	cfg       Config
	challenge string
	step      int
}

// NewCRAMMD5 returns a CRAM-MD5 exchange.
func NewCRAMMD5(cfg Config, creds CredentialsFunc) Mechanism {
	return &cramMD5{creds: creds, cfg: cfg}
}

func (m *cramMD5) Name() string { return CRAMMD5 }

func (m *cramMD5) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch m.step {
	case 0:
		m.step = 1
		if len(resp) > 0 {
			return nil, false, fmt.Errorf("cram-md5: initial response not allowed: %w", ErrMalformed)
		}
		r, err := m.cfg.nonce(16)
		if err != nil {
			return nil, false, err
		}
		m.challenge = "<" + r + "." + strconv.FormatInt(m.cfg.now().Unix(), 10) + "@" + m.cfg.hostname() + ">"
		return []byte(m.challenge), false, nil
	case 1:
		m.step = 2
		user, digest, err := parseCRAM(resp)
		if err != nil {
			return nil, false, err
		}
		ctxBytes, err := m.creds(ctx, "", user, "CRAM-MD5")
		if err != nil {
			return nil, false, err
		}
		want, err := HMACMD5FromContext(ctxBytes, []byte(m.challenge))
		if err != nil {
			return nil, false, err
		}
		if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(want)), digest) != 1 {
			return nil, false, ErrMismatch
		}
		return nil, true, nil
	}
	return nil, false, ErrUnexpected
}

// parseCRAM splits "user SP 32-lower-hex" at the last space.
func parseCRAM(resp []byte) (string, []byte, error) {
	if len(resp) > MaxResponse {
		return "", nil, fmt.Errorf("cram-md5: response too long: %w", ErrMalformed)
	}
	i := bytes.LastIndexByte(resp, ' ')
	if i <= 0 || len(resp)-i-1 != 32 {
		return "", nil, fmt.Errorf("cram-md5: want \"user digest\": %w", ErrMalformed)
	}
	user, digest := resp[:i], bytes.ToLower(resp[i+1:])
	if !utf8.Valid(user) || bytes.IndexByte(user, 0) >= 0 {
		return "", nil, fmt.Errorf("cram-md5: bad user name: %w", ErrMalformed)
	}
	if _, err := hex.DecodeString(string(digest)); err != nil {
		return "", nil, fmt.Errorf("cram-md5: digest not hex: %w", ErrMalformed)
	}
	return string(user), digest, nil
}

// HMACMD5FromContext computes HMAC-MD5(key, msg) from Dovecot's stored
// CRAM-MD5 context (32 bytes: the MD5 state after the opad block, then
// after the ipad block, words little-endian; RFC 2195 section 3).
func HMACMD5FromContext(hctx, msg []byte) ([]byte, error) {
	if len(hctx) != 32 {
		return nil, fmt.Errorf("cram-md5: stored context has %d bytes, want 32", len(hctx))
	}
	inner, err := md5Resume(hctx[16:])
	if err != nil {
		return nil, err
	}
	inner.Write(msg)
	outer, err := md5Resume(hctx[:16])
	if err != nil {
		return nil, err
	}
	outer.Write(inner.Sum(nil))
	return outer.Sum(nil), nil
}

type md5Hash interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
}

// md5Resume returns an MD5 hash that has processed one 64-byte block and
// reached the given state, by unmarshalling the standard library's state
// encoding ("md5\x01", words big-endian, block buffer, length).
func md5Resume(state []byte) (md5Hash, error) {
	b := make([]byte, 0, 4+16+64+8)
	b = append(b, "md5\x01"...)
	for i := range 4 {
		b = binary.BigEndian.AppendUint32(b, binary.LittleEndian.Uint32(state[4*i:]))
	}
	b = append(b, make([]byte, 64)...)
	b = binary.BigEndian.AppendUint64(b, 64)
	h := md5.New()
	u, ok := h.(interface{ UnmarshalBinary([]byte) error })
	if !ok {
		return nil, errors.New("cram-md5: md5 state cannot be restored")
	}
	if err := u.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("cram-md5: restore md5 state: %w", err)
	}
	return h, nil
}
