package pwscheme

import (
	"crypto/des"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/md4"
)

// genCRAMMD5 writes Dovecot's HMAC-MD5 context: the MD5 state words after
// the opad block, then after the ipad block, each little-endian (RFC 2195
// section 3 "intermediate results").
func genCRAMMD5(password, _ string, _ []byte, _ params) ([]byte, error) {
	key := []byte(password)
	if len(key) > 64 {
		s := md5.Sum(key)
		key = s[:]
	}
	var ipad, opad [64]byte
	copy(ipad[:], key)
	copy(opad[:], key)
	for i := range 64 {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	out := make([]byte, 0, 32)
	for _, pad := range [][]byte{opad[:], ipad[:]} {
		state, err := md5State(pad)
		if err != nil {
			return nil, err
		}
		out = append(out, state...)
	}
	return out, nil
}

// md5State returns the four MD5 chaining words (little-endian) after
// processing exactly one 64-byte block, read from the standard library's
// marshalled state ("md5\x01" then the words big-endian).
func md5State(block []byte) ([]byte, error) {
	h := md5.New()
	h.Write(block)
	m, ok := h.(interface{ MarshalBinary() ([]byte, error) })
	if !ok {
		return nil, fmt.Errorf("md5 state not available")
	}
	b, err := m.MarshalBinary()
	if err != nil || len(b) < 20 {
		return nil, fmt.Errorf("md5 state: %v", err)
	}
	out := make([]byte, 16)
	for i := range 4 {
		binary.LittleEndian.PutUint32(out[4*i:], binary.BigEndian.Uint32(b[4+4*i:]))
	}
	return out, nil
}

// genDigestMD5 is MD5("user:realm:password") with the realm taken from
// the user's domain (RFC 2831 section 2.1.2.1 H(A1) prefix).
func genDigestMD5(password, user string, _ []byte, _ params) ([]byte, error) {
	name, realm := user, ""
	if i := strings.LastIndexByte(user, '@'); i >= 0 {
		name, realm = user[:i], user[i+1:]
	}
	s := md5.Sum([]byte(name + ":" + realm + ":" + password))
	return s[:], nil
}

// genNTLM is MD4 of the UTF-16LE password.
func genNTLM(password, _ string, _ []byte, _ params) ([]byte, error) {
	u := utf16.Encode([]rune(password))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	h := md4.New()
	h.Write(b)
	return h.Sum(nil), nil
}

// genLANMAN is the LAN Manager hash: the upper-cased password, cut or
// padded to 14 bytes, as two DES keys encrypting "KGS!@#$%".
func genLANMAN(password, _ string, _ []byte, _ params) ([]byte, error) {
	var pw [14]byte
	copy(pw[:], strings.ToUpper(password))
	out := make([]byte, 0, 16)
	for half := range 2 {
		c, err := des.NewCipher(desKey7(pw[7*half : 7*half+7]))
		if err != nil {
			return nil, fmt.Errorf("lanman: %w", err)
		}
		var blk [8]byte
		c.Encrypt(blk[:], []byte("KGS!@#$%"))
		out = append(out, blk[:]...)
	}
	return out, nil
}

// desKey7 spreads 56 key bits over 8 bytes, leaving the parity bits zero.
func desKey7(k []byte) []byte {
	var v uint64
	for _, b := range k {
		v = v<<8 | uint64(b)
	}
	key := make([]byte, 8)
	for i := range 8 {
		key[i] = byte(v>>(49-7*i)) << 1
	}
	return key
}
