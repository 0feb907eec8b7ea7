package oauth2db

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// MaxTokenLen bounds a token before it is parsed.
const MaxTokenLen = 16 << 10

// errInvalid marks a token that is refused (not a temporary failure).
var errInvalid = errors.New("invalid token")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

type jwtHeader struct {
	Alg  string   `json:"alg"`
	Typ  string   `json:"typ"`
	Kid  string   `json:"kid"`
	Crit []string `json:"crit"`
}

// KeySource finds verification keys by azp, alg and kid.
type KeySource interface {
	Key(azp, alg, kid string) ([]byte, error)
}

// FSKeys is the "fs:posix:prefix=DIR/" dict: the key of AZP/ALG/KID is
// the file DIR/AZP/ALG/KID.
type FSKeys struct{ Dir string }

// ParseKeyDict reads local_validation_key_dict.
func ParseKeyDict(uri string) (KeySource, error) {
	rest, ok := strings.CutPrefix(uri, "fs:posix:")
	if !ok {
		return nil, fmt.Errorf("local_validation_key_dict %q: only fs:posix:prefix=DIR is supported", uri)
	}
	for _, p := range strings.Split(rest, ":") {
		if dir, ok := strings.CutPrefix(p, "prefix="); ok {
			return FSKeys{Dir: dir}, nil
		}
	}
	return nil, fmt.Errorf("local_validation_key_dict %q: no prefix=", uri)
}

// Key reads the key file; a missing file is an invalid token (unknown
// key), any other error a temporary failure.
func (k FSKeys) Key(azp, alg, kid string) ([]byte, error) {
	p := filepath.Join(k.Dir, escapeKeyPart(azp), alg, escapeKeyPart(kid))
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, invalid("no key for azp=%q alg=%s kid=%q", azp, alg, kid)
	}
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	return b, nil
}

// escapeKeyPart escapes a JWT value used as a dict path component.
func escapeKeyPart(s string) string {
	return strings.NewReplacer("%", "%25", ".", "%2e", "/", "%2f").Replace(s)
}

func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// ValidateJWT verifies a compact JWS token and returns its claims.
func ValidateJWT(token string, keys KeySource, issuers []string, audience string, now time.Time) (map[string]any, error) {
	if len(token) > MaxTokenLen {
		return nil, invalid("token too long")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalid("not a JWT")
	}
	hb, err := b64(parts[0])
	if err != nil {
		return nil, invalid("header: %v", err)
	}
	var h jwtHeader
	if err := json.Unmarshal(hb, &h); err != nil {
		return nil, invalid("header: %v", err)
	}
	if h.Typ != "" && !strings.EqualFold(h.Typ, "JWT") {
		return nil, invalid("typ %q is not JWT", h.Typ)
	}
	if len(h.Crit) > 0 {
		return nil, invalid("crit header not supported")
	}
	pb, err := b64(parts[1])
	if err != nil {
		return nil, invalid("payload: %v", err)
	}
	claims := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(pb))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, invalid("payload: %v", err)
	}
	sig, err := b64(parts[2])
	if err != nil {
		return nil, invalid("signature: %v", err)
	}
	azp, _ := claims["azp"].(string)
	if azp == "" {
		azp = "default"
	}
	kid := h.Kid
	if kid == "" {
		kid = "default"
	}
	if err := verifySig(h.Alg, parts[0]+"."+parts[1], sig, func() ([]byte, error) { return keys.Key(azp, h.Alg, kid) }); err != nil {
		return nil, err
	}
	return claims, checkClaims(claims, issuers, audience, now)
}

// verifySig checks the JWS signature of alg (RFC 7518 section 3.1).
func verifySig(alg, signed string, sig []byte, key func() ([]byte, error)) error {
	if len(alg) != 5 {
		return invalid("unsupported alg %q", alg)
	}
	var hf func() hash.Hash
	var ch crypto.Hash
	switch alg[2:] {
	case "256":
		hf, ch = sha256.New, crypto.SHA256
	case "384":
		hf, ch = sha512.New384, crypto.SHA384
	case "512":
		hf, ch = sha512.New, crypto.SHA512
	default:
		return invalid("unsupported alg %q", alg)
	}
	if !slices.Contains([]string{"HS", "RS", "PS", "ES"}, alg[:2]) {
		return invalid("unsupported alg %q", alg)
	}
	k, err := key()
	if err != nil {
		return err
	}
	if alg[:2] == "HS" {
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(k)))
		if err != nil {
			return fmt.Errorf("HMAC key is not base64: %w", err)
		}
		m := hmac.New(hf, secret)
		m.Write([]byte(signed))
		if !hmac.Equal(m.Sum(nil), sig) {
			return invalid("bad signature")
		}
		return nil
	}
	h := hf()
	h.Write([]byte(signed))
	return verifyPublic(alg[:2], ch, h.Sum(nil), sig, k)
}

func verifyPublic(family string, ch crypto.Hash, digest, sig, pemKey []byte) error {
	blk, _ := pem.Decode(pemKey)
	if blk == nil {
		return errors.New("public key is not PEM")
	}
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		if rk, err2 := x509.ParsePKCS1PublicKey(blk.Bytes); err2 == nil {
			pub, err = rk, nil
		} else {
			return fmt.Errorf("parse public key: %w", err)
		}
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch family {
		case "RS":
			err = rsa.VerifyPKCS1v15(k, ch, digest, sig)
		case "PS":
			err = rsa.VerifyPSS(k, ch, digest, sig, nil)
		default:
			return invalid("alg %s256/384/512 with an RSA key", family)
		}
		if err != nil {
			return invalid("bad signature")
		}
		return nil
	case *ecdsa.PublicKey:
		n := (k.Curve.Params().BitSize + 7) / 8
		if family != "ES" || len(sig) != 2*n {
			return invalid("bad ECDSA signature")
		}
		r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
		if !ecdsa.Verify(k, digest, r, s) {
			return invalid("bad signature")
		}
		return nil
	}
	return fmt.Errorf("unsupported public key type %T", pub)
}

// checkClaims applies exp (required), nbf, iat, iss and aud.
func checkClaims(c map[string]any, issuers []string, audience string, now time.Time) error {
	exp, ok := numClaim(c, "exp")
	if !ok {
		return invalid("no exp")
	}
	if now.Unix() >= exp {
		return invalid("token has expired")
	}
	if nbf, ok := numClaim(c, "nbf"); ok && now.Unix() < nbf {
		return invalid("token is not valid yet")
	}
	if iat, ok := numClaim(c, "iat"); ok && now.Unix() < iat {
		return invalid("token is issued in the future")
	}
	if len(issuers) > 0 {
		iss, _ := c["iss"].(string)
		if !slices.Contains(issuers, iss) {
			return invalid("issuer %q not allowed", iss)
		}
	}
	if audience != "" && !audContains(c["aud"], audience) {
		return invalid("audience does not include client_id")
	}
	return nil
}

func numClaim(c map[string]any, k string) (int64, bool) {
	n, ok := c[k].(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	return int64(f), err == nil
}

func audContains(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, v := range a {
			if s, _ := v.(string); s == want {
				return true
			}
		}
	}
	return false
}
