package pwscheme

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// itoa64 is the crypt(3) base64 alphabet.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Default costs as Dovecot 2.3 writes them.
const (
	bcryptDefaultCost = 5
	shaCryptDefault   = 5000
	shaCryptMin       = 1000
	shaCryptMax       = 999999999
	shaCryptSaltLen   = 16
	md5CryptSaltLen   = 8
)

// randomSalt draws n characters of the crypt alphabet.
func randomSalt(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	for i := range b {
		b[i] = itoa64[b[i]&0x3f]
	}
	return string(b), nil
}

// b64From24 appends n crypt-base64 characters of the 24-bit value, low bits first.
func b64From24(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
	for ; n > 0; n-- {
		dst = append(dst, itoa64[w&0x3f])
		w >>= 6
	}
	return dst
}

// verifyCrypt is the CRYPT scheme: crypt(3) chooses the method from the
// salt string, as glibc/libxcrypt do.
func verifyCrypt(password string, raw []byte, user string) (bool, error) {
	s := string(raw)
	var gen func(string, string, []byte, params) ([]byte, error)
	switch {
	case strings.HasPrefix(s, "$1$"):
		gen = genMD5Crypt
	case strings.HasPrefix(s, "$5$"):
		gen = genSHA256Crypt
	case strings.HasPrefix(s, "$6$"):
		gen = genSHA512Crypt
	case len(s) > 3 && s[0] == '$' && s[1] == '2':
		return verifyBcrypt(password, raw, user)
	case strings.HasPrefix(s, "$"), strings.HasPrefix(s, "_"):
		return false, fmt.Errorf("crypt method %q not supported: %w", cryptID(s), ErrUnknownScheme)
	default:
		return verifyDESCrypt(password, raw, user)
	}
	want, err := gen(password, user, raw, params{})
	if err != nil {
		return false, err
	}
	return equal(want, raw), nil
}

// cryptID returns the "$id$" part for error messages (never the hash).
func cryptID(s string) string {
	if i := strings.IndexByte(s[1:], '$'); i >= 0 && i < 8 {
		return s[:i+2]
	}
	return s[:1]
}

// genCrypt generates CRYPT values the way Dovecot 2.3 does: bcrypt.
func genCrypt(password, user string, old []byte, p params) ([]byte, error) {
	return genBcrypt(password, user, old, p)
}

func bcryptPassword(password string) []byte {
	b := []byte(password)
	if len(b) > 72 {
		b = b[:72]
	}
	return b
}

func genBcrypt(password, _ string, _ []byte, p params) ([]byte, error) {
	cost := p.rounds
	if cost == 0 {
		cost = bcryptDefaultCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d out of range %d-%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	// x/crypto/bcrypt reads its salt from crypto/rand; p.rand is not used.
	h, err := bcrypt.GenerateFromPassword(bcryptPassword(password), cost)
	if err != nil {
		return nil, fmt.Errorf("bcrypt: %w", err)
	}
	// Dovecot writes $2y$; the algorithm is the same as Go's $2a$.
	if bytes.HasPrefix(h, []byte("$2a$")) {
		h[2] = 'y'
	}
	return h, nil
}

func verifyBcrypt(password string, raw []byte, _ string) (bool, error) {
	err := bcrypt.CompareHashAndPassword(raw, bcryptPassword(password))
	switch err {
	case nil:
		return true, nil
	case bcrypt.ErrMismatchedHashAndPassword:
		return false, nil
	default:
		return false, fmt.Errorf("bcrypt: %v: %w", err, ErrMalformed)
	}
}
