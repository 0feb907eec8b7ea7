package sasl

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxDigestFields bounds the directives of one DIGEST-MD5 response.
const maxDigestFields = 32

// digestMD5 is DIGEST-MD5 (RFC 2831), qop=auth only, as Dovecot 2.3
// offers it. The user is "username@realm" when the client names a realm.
type digestMD5 struct {
	creds   CredentialsFunc
	cfg     Config
	nonce   string
	step    int
	rspauth string
	fixed   string // tests: the RFC's nonce
}

// NewDigestMD5 returns a DIGEST-MD5 exchange.
func NewDigestMD5(cfg Config, creds CredentialsFunc) Mechanism {
	return &digestMD5{creds: creds, cfg: cfg}
}

func (m *digestMD5) Name() string { return DigestMD5 }

func (m *digestMD5) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch m.step {
	case 0:
		m.step = 1
		if len(resp) > 0 {
			return nil, false, fmt.Errorf("digest-md5: initial response not allowed: %w", ErrMalformed)
		}
		n, err := m.cfg.nonce(24)
		if err != nil {
			return nil, false, err
		}
		m.nonce = n
		if m.fixed != "" {
			m.nonce = m.fixed
		}
		var b strings.Builder
		for _, r := range m.cfg.Realms {
			b.WriteString(`realm="` + quoteDigest(r) + `",`)
		}
		b.WriteString(`nonce="` + m.nonce + `",qop="auth",charset=utf-8,algorithm=md5-sess`)
		return []byte(b.String()), false, nil
	case 1:
		m.step = 2
		return m.verify(ctx, resp)
	case 2:
		// The client acknowledges rspauth with an empty response.
		m.step = 3
		if len(resp) != 0 {
			return nil, false, fmt.Errorf("digest-md5: want empty response after rspauth: %w", ErrMalformed)
		}
		return nil, true, nil
	}
	return nil, false, ErrUnexpected
}

func (m *digestMD5) verify(ctx context.Context, resp []byte) ([]byte, bool, error) {
	d, err := ParseDigestResponse(resp)
	if err != nil {
		return nil, false, err
	}
	if d["nonce"] != m.nonce {
		return nil, false, fmt.Errorf("digest-md5: nonce mismatch: %w", ErrMalformed)
	}
	if d["nc"] != "00000001" {
		return nil, false, fmt.Errorf("digest-md5: nonce-count must be 00000001: %w", ErrMalformed)
	}
	if q, ok := d["qop"]; ok && q != "auth" {
		return nil, false, fmt.Errorf("digest-md5: only qop=auth is offered: %w", ErrMalformed)
	}
	for _, k := range []string{"username", "cnonce", "digest-uri", "response"} {
		if d[k] == "" {
			return nil, false, fmt.Errorf("digest-md5: missing %s: %w", k, ErrMalformed)
		}
	}
	user := d["username"]
	if r := d["realm"]; r != "" {
		user += "@" + r
	}
	authzid := d["authzid"]
	if authzid == user {
		authzid = ""
	}
	ha1, err := m.creds(ctx, authzid, user, "DIGEST-MD5")
	if err != nil {
		return nil, false, err
	}
	if len(ha1) != md5.Size {
		return nil, false, fmt.Errorf("digest-md5: stored credentials have %d bytes, want 16", len(ha1))
	}
	want, rspauth := DigestResponse(ha1, d)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(d["response"]))) != 1 {
		return nil, false, ErrMismatch
	}
	m.rspauth = rspauth
	return []byte("rspauth=" + rspauth), false, nil
}

// DigestResponse computes the client's expected "response" and the
// server's "rspauth" from H(user:realm:password) and the client's
// directives (RFC 2831 section 2.1.2.1).
func DigestResponse(ha1 []byte, d map[string]string) (response, rspauth string) {
	h := func(s string) []byte { x := md5.Sum([]byte(s)); return x[:] }
	hx := func(s string) string { return hex.EncodeToString(h(s)) }
	a1 := string(ha1) + ":" + d["nonce"] + ":" + d["cnonce"]
	if z := d["authzid"]; z != "" {
		a1 += ":" + z
	}
	ha1s := hex.EncodeToString(h(a1))
	qop := d["qop"]
	if qop == "" {
		qop = "auth"
	}
	kd := func(a2 string) string {
		return hx(ha1s + ":" + d["nonce"] + ":" + d["nc"] + ":" + d["cnonce"] + ":" + qop + ":" + hx(a2))
	}
	return kd("AUTHENTICATE:" + d["digest-uri"]), kd(":" + d["digest-uri"])
}

// ParseDigestResponse reads a DIGEST-MD5 digest-response: comma-separated
// directives, values quoted (with backslash escapes) or tokens. A
// directive given twice is malformed.
func ParseDigestResponse(b []byte) (map[string]string, error) {
	if len(b) > MaxResponse || !utf8.Valid(b) {
		return nil, fmt.Errorf("digest-md5: response too long or not UTF-8: %w", ErrMalformed)
	}
	out := map[string]string{}
	s := string(b)
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out, nil
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("digest-md5: directive without value: %w", ErrMalformed)
		}
		key := strings.ToLower(strings.TrimSpace(s[:eq]))
		s = strings.TrimLeft(s[eq+1:], " \t")
		var val string
		var err error
		if val, s, err = digestValue(s); err != nil {
			return nil, err
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("digest-md5: directive %q repeated: %w", key, ErrMalformed)
		}
		if len(out) >= maxDigestFields {
			return nil, fmt.Errorf("digest-md5: too many directives: %w", ErrMalformed)
		}
		out[key] = val
		s = strings.TrimLeft(s, " \t")
		if s != "" && s[0] != ',' {
			return nil, fmt.Errorf("digest-md5: junk after %s: %w", key, ErrMalformed)
		}
	}
}

func digestValue(s string) (val, rest string, err error) {
	if !strings.HasPrefix(s, `"`) {
		i := strings.IndexAny(s, ", \t")
		if i < 0 {
			i = len(s)
		}
		return s[:i], s[i:], nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 >= len(s) {
				return "", "", fmt.Errorf("digest-md5: dangling escape: %w", ErrMalformed)
			}
			i++
			b.WriteByte(s[i])
		case '"':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("digest-md5: unterminated quoted value: %w", ErrMalformed)
}

func quoteDigest(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
