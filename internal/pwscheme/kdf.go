package pwscheme

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Limits on costs read from stored hashes, so a damaged or hostile entry
// cannot make one verification run for hours or allocate unbounded memory.
const (
	maxIterations    = 10_000_000
	maxArgon2Memory  = 4 << 20 // KiB (4 GiB)
	maxArgon2Time    = 1 << 16
	maxArgon2Threads = 255
	maxSaltBytes     = 1024
)

const (
	pbkdf2DefaultRounds = 5000
	pbkdf2SaltLen       = 16
	scramDefaultRounds  = 4096
	scramSaltLen        = 16
	argon2SaltLen       = 16
	argon2KeyLen        = 32
)

// pbkdf2Setting is Dovecot's "$1$salt$rounds$hexkey" PBKDF2-HMAC-SHA1 form.
type pbkdf2Setting struct {
	salt   string
	rounds int
	key    string
}

func parsePBKDF2(s string) (pbkdf2Setting, error) {
	f := strings.Split(s, "$")
	if len(f) != 5 || f[0] != "" || f[1] != "1" {
		return pbkdf2Setting{}, fmt.Errorf("pbkdf2: want $1$salt$rounds$key: %w", ErrMalformed)
	}
	n, err := strconv.Atoi(f[3])
	if err != nil || n < 1 || n > maxIterations || len(f[2]) > maxSaltBytes {
		return pbkdf2Setting{}, fmt.Errorf("pbkdf2: bad rounds or salt: %w", ErrMalformed)
	}
	return pbkdf2Setting{salt: f[2], rounds: n, key: f[4]}, nil
}

func genPBKDF2(password, _ string, old []byte, p params) ([]byte, error) {
	var set pbkdf2Setting
	if old != nil {
		var err error
		if set, err = parsePBKDF2(string(old)); err != nil {
			return nil, err
		}
	} else {
		salt, err := randomSalt(p.rand, pbkdf2SaltLen)
		if err != nil {
			return nil, err
		}
		set = pbkdf2Setting{salt: salt, rounds: cmpOr(p.rounds, pbkdf2DefaultRounds)}
		if set.rounds > maxIterations {
			return nil, fmt.Errorf("pbkdf2: rounds %d above %d", set.rounds, maxIterations)
		}
	}
	key, err := pbkdf2.Key(sha1.New, password, []byte(set.salt), set.rounds, sha1.Size)
	if err != nil {
		return nil, fmt.Errorf("pbkdf2: %w", err)
	}
	return fmt.Appendf(nil, "$1$%s$%d$%s", set.salt, set.rounds, hex.EncodeToString(key)), nil
}

// scramSetting is "iterations,salt,StoredKey,ServerKey" (base64 fields),
// the credentials of RFC 5802 section 3.
type scramSetting struct {
	iter                 int
	salt, stored, server []byte
}

func parseSCRAM(s string) (scramSetting, error) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return scramSetting{}, fmt.Errorf("scram: want 4 fields: %w", ErrMalformed)
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n < 1 || n > maxIterations {
		return scramSetting{}, fmt.Errorf("scram: bad iteration count: %w", ErrMalformed)
	}
	set := scramSetting{iter: n}
	for i, dst := range []*[]byte{&set.salt, &set.stored, &set.server} {
		if *dst, err = base64.StdEncoding.DecodeString(f[i+1]); err != nil {
			return scramSetting{}, fmt.Errorf("scram: field %d: %w", i+2, ErrMalformed)
		}
	}
	if len(set.salt) > maxSaltBytes {
		return scramSetting{}, fmt.Errorf("scram: salt too long: %w", ErrMalformed)
	}
	return set, nil
}

// scramKeys derives StoredKey and ServerKey (RFC 5802 section 3).
func scramKeys[H hash.Hash](newHash func() H, password string, salt []byte, iter int) (stored, server []byte, err error) {
	salted, err := pbkdf2.Key(newHash, password, salt, iter, newHash().Size())
	if err != nil {
		return nil, nil, fmt.Errorf("scram: %w", err)
	}
	mac := func(msg string) []byte {
		m := hmac.New(func() hash.Hash { return newHash() }, salted)
		m.Write([]byte(msg))
		return m.Sum(nil)
	}
	h := newHash()
	h.Write(mac("Client Key"))
	return h.Sum(nil), mac("Server Key"), nil
}

func genSCRAM[H hash.Hash](newHash func() H) func(string, string, []byte, params) ([]byte, error) {
	return func(password, _ string, _ []byte, p params) ([]byte, error) {
		salt := make([]byte, scramSaltLen)
		if _, err := io.ReadFull(p.rand, salt); err != nil {
			return nil, fmt.Errorf("read salt: %w", err)
		}
		iter := cmpOr(p.rounds, scramDefaultRounds)
		if iter > maxIterations {
			return nil, fmt.Errorf("scram: rounds %d above %d", iter, maxIterations)
		}
		stored, server, err := scramKeys(newHash, password, salt, iter)
		if err != nil {
			return nil, err
		}
		b64 := base64.StdEncoding.EncodeToString
		return fmt.Appendf(nil, "%d,%s,%s,%s", iter, b64(salt), b64(stored), b64(server)), nil
	}
}

func verifySCRAM[H hash.Hash](newHash func() H) func(string, []byte, string) (bool, error) {
	return func(password string, raw []byte, _ string) (bool, error) {
		set, err := parseSCRAM(string(raw))
		if err != nil {
			return false, err
		}
		stored, _, err := scramKeys(newHash, password, set.salt, set.iter)
		if err != nil {
			return false, err
		}
		return equal(stored, set.stored), nil
	}
}

// argon2Setting is the PHC string "$argon2id$v=19$m=..,t=..,p=..$salt$hash"
// with unpadded base64, as libsodium (and so Dovecot) writes it.
type argon2Setting struct {
	variant    string
	m, t       uint32
	p          uint8
	salt, hash []byte
}

func parseArgon2(s string) (argon2Setting, error) {
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || (f[1] != "argon2i" && f[1] != "argon2id") || f[2] != "v=19" {
		return argon2Setting{}, fmt.Errorf("argon2: want $argon2id$v=19$m=,t=,p=$salt$hash: %w", ErrMalformed)
	}
	set := argon2Setting{variant: f[1]}
	var m, t, p uint64
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		m < 8 || m > maxArgon2Memory || t < 1 || t > maxArgon2Time || p < 1 || p > maxArgon2Threads {
		return argon2Setting{}, fmt.Errorf("argon2: bad parameters: %w", ErrMalformed)
	}
	set.m, set.t, set.p = uint32(m), uint32(t), uint8(p)
	var err error
	if set.salt, err = base64.RawStdEncoding.DecodeString(f[4]); err != nil || len(set.salt) > maxSaltBytes {
		return argon2Setting{}, fmt.Errorf("argon2: bad salt: %w", ErrMalformed)
	}
	if set.hash, err = base64.RawStdEncoding.DecodeString(f[5]); err != nil || len(set.hash) < 4 || len(set.hash) > 1024 {
		return argon2Setting{}, fmt.Errorf("argon2: bad hash: %w", ErrMalformed)
	}
	return set, nil
}

func (a argon2Setting) key(password string) []byte {
	if a.variant == "argon2i" {
		return argon2.Key([]byte(password), a.salt, a.t, a.m, a.p, uint32(len(a.hash)))
	}
	return argon2.IDKey([]byte(password), a.salt, a.t, a.m, a.p, uint32(len(a.hash)))
}

// genArgon2 uses the costs Dovecot 2.3 writes by default: argon2i t=4
// m=32 MiB, argon2id t=3 m=64 MiB, one lane. rounds overrides t.
func genArgon2(variant string) func(string, string, []byte, params) ([]byte, error) {
	return func(password, _ string, _ []byte, p params) ([]byte, error) {
		set := argon2Setting{variant: variant, m: 65536, t: 3, p: 1}
		if variant == "argon2i" {
			set.m, set.t = 32768, 4
		}
		if p.rounds != 0 {
			if p.rounds > maxArgon2Time {
				return nil, fmt.Errorf("argon2: rounds %d above %d", p.rounds, maxArgon2Time)
			}
			set.t = uint32(p.rounds)
		}
		set.salt = make([]byte, argon2SaltLen)
		if _, err := io.ReadFull(p.rand, set.salt); err != nil {
			return nil, fmt.Errorf("read salt: %w", err)
		}
		set.hash = make([]byte, argon2KeyLen)
		set.hash = set.key(password)
		b64 := base64.RawStdEncoding.EncodeToString
		return fmt.Appendf(nil, "$%s$v=19$m=%d,t=%d,p=%d$%s$%s",
			variant, set.m, set.t, set.p, b64(set.salt), b64(set.hash)), nil
	}
}

func verifyArgon2(password string, raw []byte, _ string) (bool, error) {
	set, err := parseArgon2(string(raw))
	if err != nil {
		return false, err
	}
	return equal(set.key(password), set.hash), nil
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
