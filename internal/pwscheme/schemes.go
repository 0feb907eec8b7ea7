package pwscheme

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"
	"strings"

	"golang.org/x/crypto/md4"
)

// params carries generation inputs. rand is nil during verification.
type params struct {
	rand   io.Reader
	rounds int
}

// A scheme generates raw bytes for a password. When old is non-nil (during
// verification) generate takes salt and cost from it, so comparing the
// result with old verifies the password. verify, when set, replaces that
// comparison (plaintext truncation, SCRAM, bcrypt).
type scheme struct {
	name     string
	enc      Encoding
	rawLen   int // decoded length when fixed, 0 otherwise
	generate func(password, user string, old []byte, p params) ([]byte, error)
	verify   func(password string, raw []byte, user string) (bool, error)
	// slow schemes cost milliseconds or more per check by design (crypt
	// rounds, bcrypt, PBKDF2, Argon2, SCRAM iterations).
	slow bool
}

func schemes() []scheme {
	return []scheme{
		{name: "PLAIN", generate: genPlain},
		{name: "CLEAR", generate: genPlain},
		{name: "CLEARTEXT", generate: genPlain},
		{name: "PLAIN-TRUNC", generate: genPlainTrunc, verify: verifyPlainTrunc},
		{name: "CRYPT", generate: genCrypt, verify: verifyCrypt, slow: true},
		{name: "DES-CRYPT", generate: genDESCrypt, verify: verifyDESCrypt},
		{name: "MD5-CRYPT", generate: genMD5Crypt, slow: true},
		{name: "MD5", generate: genMD5Crypt, verify: verifyMD5},
		{name: "SHA256-CRYPT", generate: genSHA256Crypt, slow: true},
		{name: "SHA512-CRYPT", generate: genSHA512Crypt, slow: true},
		{name: "BLF-CRYPT", generate: genBcrypt, verify: verifyBcrypt, slow: true},
		{name: "PLAIN-MD4", enc: EncHex, rawLen: 16, generate: digest(md4.New)},
		{name: "PLAIN-MD5", enc: EncHex, rawLen: 16, generate: digest(md5.New)},
		{name: "LDAP-MD5", enc: EncBase64, rawLen: 16, generate: digest(md5.New)},
		{name: "SMD5", enc: EncBase64, generate: salted(md5.New)},
		{name: "SHA", enc: EncBase64, rawLen: 20, generate: digest(sha1.New)},
		{name: "SHA1", enc: EncBase64, rawLen: 20, generate: digest(sha1.New)},
		{name: "SSHA", enc: EncBase64, generate: salted(sha1.New)},
		{name: "SHA256", enc: EncBase64, rawLen: 32, generate: digest(sha256.New)},
		{name: "SSHA256", enc: EncBase64, generate: salted(sha256.New)},
		{name: "SHA512", enc: EncBase64, rawLen: 64, generate: digest(sha512.New)},
		{name: "SSHA512", enc: EncBase64, generate: salted(sha512.New)},
		{name: "CRAM-MD5", enc: EncHex, rawLen: 32, generate: genCRAMMD5},
		{name: "HMAC-MD5", enc: EncHex, rawLen: 32, generate: genCRAMMD5},
		{name: "DIGEST-MD5", enc: EncHex, rawLen: 16, generate: genDigestMD5},
		{name: "NTLM", enc: EncHex, rawLen: 16, generate: genNTLM},
		{name: "LANMAN", enc: EncHex, rawLen: 16, generate: genLANMAN},
		{name: "PBKDF2", generate: genPBKDF2, slow: true},
		{name: "SCRAM-SHA-1", generate: genSCRAM(sha1.New), verify: verifySCRAM(sha1.New), slow: true},
		{name: "SCRAM-SHA-256", generate: genSCRAM(sha256.New), verify: verifySCRAM(sha256.New), slow: true},
		{name: "ARGON2I", generate: genArgon2("argon2i"), verify: verifyArgon2, slow: true},
		{name: "ARGON2ID", generate: genArgon2("argon2id"), verify: verifyArgon2, slow: true},
	}
}

func lookup(name string) (scheme, bool) {
	for _, s := range schemes() {
		if s.name == name {
			return s, true
		}
	}
	return scheme{}, false
}

// canonical folds aliases so Credentials can match them.
func canonical(name string) string {
	switch name {
	case "CLEAR", "CLEARTEXT":
		return "PLAIN"
	case "SHA1":
		return "SHA"
	case "HMAC-MD5":
		return "CRAM-MD5"
	}
	return name
}

func genPlain(password, _ string, _ []byte, _ params) ([]byte, error) {
	return []byte(password), nil
}

// genPlainTrunc writes Dovecot's "<length>-<password>" form.
func genPlainTrunc(password, _ string, _ []byte, _ params) ([]byte, error) {
	return fmt.Appendf(nil, "%d-%s", len(password), password), nil
}

// verifyPlainTrunc accepts a password whose prefix matches a stored
// password that was truncated to its recorded length.
func verifyPlainTrunc(password string, raw []byte, _ string) (bool, error) {
	n, i := 0, 0
	for ; i < len(raw) && raw[i] >= '0' && raw[i] <= '9' && n < 1<<20; i++ {
		n = n*10 + int(raw[i]-'0')
	}
	if i == len(raw) || raw[i] != '-' {
		return false, fmt.Errorf("PLAIN-TRUNC missing length prefix: %w", ErrMalformed)
	}
	stored := raw[i+1:]
	if len(stored) == n && len(password) >= n {
		return equal(stored, []byte(password[:n])), nil
	}
	return equal(stored, []byte(password)), nil
}

func digest[H hash.Hash](newHash func() H) func(string, string, []byte, params) ([]byte, error) {
	return func(password, _ string, _ []byte, _ params) ([]byte, error) {
		h := newHash()
		h.Write([]byte(password))
		return h.Sum(nil), nil
	}
}

// saltLen is the salt length Dovecot writes for SMD5/SSHA*; any length
// after the digest is accepted when verifying.
const saltLen = 4

func salted[H hash.Hash](newHash func() H) func(string, string, []byte, params) ([]byte, error) {
	return func(password, _ string, old []byte, p params) ([]byte, error) {
		h := newHash()
		var salt []byte
		if old != nil {
			if len(old) <= h.Size() {
				return nil, fmt.Errorf("salted hash too short: %w", ErrMalformed)
			}
			salt = old[h.Size():]
		} else {
			salt = make([]byte, saltLen)
			if _, err := io.ReadFull(p.rand, salt); err != nil {
				return nil, fmt.Errorf("read salt: %w", err)
			}
		}
		h.Write([]byte(password))
		h.Write(salt)
		return append(h.Sum(nil), salt...), nil
	}
}

// verifyMD5 handles Dovecot's MD5 scheme: MD5-crypt when the value starts
// with $1$, otherwise a PLAIN-MD5 digest.
func verifyMD5(password string, raw []byte, user string) (bool, error) {
	if strings.HasPrefix(string(raw), "$1$") {
		want, err := genMD5Crypt(password, user, raw, params{})
		if err != nil {
			return false, err
		}
		return equal(want, raw), nil
	}
	h := Hash{Scheme: "PLAIN-MD5", Value: string(raw)}
	return h.Verify(password, user)
}
