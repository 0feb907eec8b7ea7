package pwscheme

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// DefaultScheme is the scheme Verify assumes for a stored password without a
// {SCHEME} prefix (Dovecot's default_pass_scheme for passwd-file and LDAP).
const DefaultScheme = "CRYPT"

// ErrUnknownScheme is returned (wrapped) for a scheme pwscheme does not know.
// auth maps it to "scheme not available".
var ErrUnknownScheme = errors.New("unknown password scheme")

// ErrMalformed is returned (wrapped) when a stored hash cannot be decoded.
var ErrMalformed = errors.New("malformed password hash")

// Encoding is how a scheme's raw bytes are written after the prefix.
type Encoding int

const (
	// EncNone means the value is text (crypt strings, plaintext).
	EncNone Encoding = iota
	// EncBase64 is standard padded base64.
	EncBase64
	// EncHex is lower-case hexadecimal.
	EncHex
)

// Hash is a parsed stored password.
type Hash struct {
	Scheme   string   // upper-case scheme name, without encoding suffix
	Encoding Encoding // explicit encoding suffix, or EncNone when absent
	Explicit bool     // the encoding came from a ".HEX"/".B64" suffix
	Value    string   // everything after the prefix
}

// Parse splits a stored password into scheme and value. defaultScheme is
// used when there is no prefix; it may be empty, in which case a string
// without prefix is an error.
func Parse(stored, defaultScheme string) (Hash, error) {
	name, value, ok := splitPrefix(stored)
	if !ok {
		if defaultScheme == "" {
			return Hash{}, fmt.Errorf("no {scheme} prefix: %w", ErrMalformed)
		}
		name = defaultScheme
	}
	h := Hash{Value: value}
	base, enc, found := strings.Cut(name, ".")
	h.Scheme = strings.ToUpper(base)
	if found {
		switch strings.ToUpper(enc) {
		case "HEX":
			h.Encoding = EncHex
		case "B64", "BASE64":
			h.Encoding = EncBase64
		default:
			return Hash{}, fmt.Errorf("scheme %q: unknown encoding %q: %w", base, enc, ErrUnknownScheme)
		}
		h.Explicit = true
	}
	if _, ok := lookup(h.Scheme); !ok {
		return Hash{}, fmt.Errorf("scheme %q: %w", h.Scheme, ErrUnknownScheme)
	}
	return h, nil
}

// splitPrefix mirrors Dovecot's password_get_scheme: "$1$salt$hash" is
// MD5-CRYPT, "{X}rest" has scheme X.
func splitPrefix(s string) (name, value string, ok bool) {
	if rest, found := strings.CutPrefix(s, "$1$"); found {
		if i := strings.IndexByte(rest, '$'); i >= 0 {
			end := len(s)
			if j := strings.IndexByte(rest[i+1:], '$'); j >= 0 {
				end = 3 + i + 1 + j
			}
			return "MD5-CRYPT", s[:end], true
		}
	}
	if !strings.HasPrefix(s, "{") {
		return "", s, false
	}
	i := strings.IndexByte(s, '}')
	if i < 0 {
		return "", s, false
	}
	return s[1:i], s[i+1:], true
}

// Raw decodes the value into the bytes the scheme works on. For text
// schemes without an explicit encoding the value is returned as is.
// Without an explicit suffix, Dovecot guesses hex when the length is
// exactly twice the scheme's raw length, base64 otherwise.
func (h Hash) Raw() ([]byte, error) {
	s, ok := lookup(h.Scheme)
	if !ok {
		return nil, fmt.Errorf("scheme %q: %w", h.Scheme, ErrUnknownScheme)
	}
	enc := h.Encoding
	if !h.Explicit {
		enc = s.enc
		if enc != EncNone && s.rawLen > 0 && len(h.Value) == 2*s.rawLen {
			enc = EncHex
		}
	}
	raw, err := decode(h.Value, enc)
	if err != nil {
		return nil, fmt.Errorf("scheme %s: %w", h.Scheme, err)
	}
	return raw, nil
}

func decode(v string, enc Encoding) ([]byte, error) {
	switch enc {
	case EncHex:
		b, err := hex.DecodeString(v)
		if err == nil {
			return b, nil
		}
		// Dovecot falls back to base64: some lengths fit both.
		fallthrough
	case EncBase64:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("decode value: %w", ErrMalformed)
		}
		return b, nil
	default:
		return []byte(v), nil
	}
}

// Verify reports whether password matches the stored hash. A stored value
// without prefix uses DefaultScheme. user is needed by schemes that mix in
// the user name (DIGEST-MD5). An unknown scheme or undecodable hash is an
// error, never a plain mismatch.
func Verify(password, stored, user string) (bool, error) {
	return VerifyDefault(password, stored, user, DefaultScheme)
}

// VerifyDefault is Verify with the caller's default_pass_scheme.
func VerifyDefault(password, stored, user, defaultScheme string) (bool, error) {
	h, err := Parse(stored, defaultScheme)
	if err != nil {
		return false, err
	}
	return h.Verify(password, user)
}

// Verify checks password against the parsed hash.
func (h Hash) Verify(password, user string) (bool, error) {
	s, ok := lookup(h.Scheme)
	if !ok {
		return false, fmt.Errorf("scheme %q: %w", h.Scheme, ErrUnknownScheme)
	}
	raw, err := h.Raw()
	if err != nil {
		return false, err
	}
	if s.verify != nil {
		return s.verify(password, raw, user)
	}
	want, err := s.generate(password, user, raw, params{})
	if err != nil {
		return false, fmt.Errorf("scheme %s: %w", h.Scheme, err)
	}
	return equal(want, raw), nil
}

// Generate hashes password with scheme ("SHA512-CRYPT", "SHA256.HEX", ...).
// rounds is the scheme's cost (SHA-crypt rounds, bcrypt cost, Argon2 time,
// PBKDF2/SCRAM iterations); 0 means Dovecot's default.
func Generate(scheme, password, user string, rounds int) (string, error) {
	return GenerateRand(rand.Reader, scheme, password, user, rounds)
}

// GenerateRand is Generate with the salt drawn from r (tests pass a fixed
// reader).
func GenerateRand(r io.Reader, scheme, password, user string, rounds int) (string, error) {
	h, err := Parse("{"+scheme+"}", "")
	if err != nil {
		return "", err
	}
	s, _ := lookup(h.Scheme)
	if s.generate == nil {
		return "", fmt.Errorf("scheme %s: cannot generate: %w", h.Scheme, ErrUnknownScheme)
	}
	if rounds < 0 {
		return "", fmt.Errorf("scheme %s: negative rounds %d", h.Scheme, rounds)
	}
	raw, err := s.generate(password, user, nil, params{rand: r, rounds: rounds})
	if err != nil {
		return "", fmt.Errorf("generate %s: %w", h.Scheme, err)
	}
	enc := s.enc
	if h.Explicit {
		enc = h.Encoding
	}
	return "{" + strings.ToUpper(scheme) + "}" + encode(raw, enc), nil
}

func encode(raw []byte, enc Encoding) string {
	switch enc {
	case EncHex:
		return hex.EncodeToString(raw)
	case EncBase64:
		return base64.StdEncoding.EncodeToString(raw)
	default:
		return string(raw)
	}
}

// Credentials returns the raw credentials of scheme want for a stored
// password, as challenge-response mechanisms need them (CRAM-MD5 wants the
// HMAC-MD5 context, DIGEST-MD5 the MD5 of user:realm:pass). A stored
// plaintext can produce any scheme; otherwise the stored scheme must match.
func Credentials(stored, want, user, defaultScheme string) ([]byte, error) {
	h, err := Parse(stored, defaultScheme)
	if err != nil {
		return nil, err
	}
	w, err := Parse("{"+want+"}", "")
	if err != nil {
		return nil, err
	}
	if canonical(h.Scheme) == canonical(w.Scheme) {
		return h.Raw()
	}
	if !isPlaintext(h.Scheme) {
		return nil, fmt.Errorf("stored scheme %s cannot give %s credentials: %w", h.Scheme, w.Scheme, ErrUnknownScheme)
	}
	pw, err := h.Raw()
	if err != nil {
		return nil, err
	}
	s, _ := lookup(w.Scheme)
	return s.generate(string(pw), user, nil, params{rand: rand.Reader})
}

func isPlaintext(name string) bool {
	return name == "PLAIN" || name == "CLEAR" || name == "CLEARTEXT"
}

// List returns the names of all schemes, sorted.
func List() []string {
	var names []string
	for _, s := range schemes() {
		names = append(names, s.name)
	}
	sort.Strings(names)
	return names
}

// equal compares in time that depends only on the lengths.
func equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

func equalString(a, b string) bool {
	return equal([]byte(a), []byte(b))
}

// Slow reports whether checking a password stored as stored (with
// defaultScheme for a value without prefix) is expensive by design:
// crypt with rounds, bcrypt, PBKDF2, Argon2, SCRAM. Callers run such
// checks in a bounded worker pool. Unknown or malformed hashes are not
// slow (they fail at once).
func Slow(stored, defaultScheme string) bool {
	h, err := Parse(stored, defaultScheme)
	if err != nil {
		return false
	}
	s, _ := lookup(h.Scheme)
	return s.slow
}
