package pwscheme

import (
	"fmt"
	"strings"
)

// Traditional DES crypt(3) as in Version 7 Unix: 25 DES encryptions of a
// zero block under a key made of the password's first 8 characters, with
// the E expansion perturbed by a 12-bit salt. This implementation works on
// one byte per bit; it is slow but plainly follows FIPS 46-3.

var (
	desIP = [64]byte{58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
		62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
		57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
		61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7}
	desFP = [64]byte{40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
		38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
		36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
		34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25}
	desE = [48]byte{32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13,
		12, 13, 14, 15, 16, 17, 16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25,
		24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1}
	desP = [32]byte{16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
		2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25}
	desPC1 = [56]byte{57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
		10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
		63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
		14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4}
	desPC2 = [48]byte{14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
		23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
		41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
		44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32}
	desShifts = [16]byte{1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1}
	desS      = [8][64]byte{
		{14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
			0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
			4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
			15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13},
		{15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
			3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
			0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
			13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9},
		{10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
			13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
			13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
			1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12},
		{7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
			13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
			10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
			3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14},
		{2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
			14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
			4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
			11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3},
		{12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
			10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
			9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
			4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13},
		{4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
			13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
			1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
			6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12},
		{13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
			1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
			7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
			2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11},
	}
)

// desBlock holds one bit per byte.
type desBlock [64]byte

// desCipher is a key schedule plus a (possibly salted) expansion table.
type desCipher struct {
	keys [16][48]byte
	e    [48]byte
}

func newDESCipher(key desBlock, saltBits uint32) *desCipher {
	c := &desCipher{e: desE}
	for i := range 12 {
		if saltBits>>i&1 != 0 {
			c.e[i], c.e[i+24] = c.e[i+24], c.e[i]
		}
	}
	var cd [56]byte
	for i, p := range desPC1 {
		cd[i] = key[p-1]
	}
	for r := range 16 {
		for range desShifts[r] {
			rotate28(cd[:28])
			rotate28(cd[28:])
		}
		for i, p := range desPC2 {
			c.keys[r][i] = cd[p-1]
		}
	}
	return c
}

func rotate28(h []byte) {
	first := h[0]
	copy(h, h[1:])
	h[27] = first
}

func (c *desCipher) encrypt(in desBlock) desBlock {
	var lr desBlock
	for i, p := range desIP {
		lr[i] = in[p-1]
	}
	l, r := lr[:32], lr[32:]
	var tmp [32]byte
	for round := range 16 {
		f := c.f(r, &c.keys[round])
		for i := range 32 {
			tmp[i] = l[i] ^ f[i]
		}
		copy(l, r)
		copy(r, tmp[:])
	}
	// Undo the last swap: the output is R16 L16.
	var rl desBlock
	copy(rl[:32], r)
	copy(rl[32:], l)
	var out desBlock
	for i, p := range desFP {
		out[i] = rl[p-1]
	}
	return out
}

func (c *desCipher) f(r []byte, k *[48]byte) [32]byte {
	var x [48]byte
	for i, p := range c.e {
		x[i] = r[p-1] ^ k[i]
	}
	var s [32]byte
	for b := range 8 {
		v := x[6*b : 6*b+6]
		row := v[0]<<1 | v[5]
		col := v[1]<<3 | v[2]<<2 | v[3]<<1 | v[4]
		n := desS[b][int(row)*16+int(col)]
		for j := range 4 {
			s[4*b+j] = n >> (3 - j) & 1
		}
	}
	var out [32]byte
	for i, p := range desP {
		out[i] = s[p-1]
	}
	return out
}

func cryptIndex(c byte) (uint32, bool) {
	i := strings.IndexByte(itoa64, c)
	return uint32(i), i >= 0
}

// desCrypt computes the 13-character crypt(3) string for a 2-character salt.
func desCrypt(pw []byte, salt string) ([]byte, error) {
	if len(salt) < 2 {
		return nil, fmt.Errorf("des-crypt: short salt: %w", ErrMalformed)
	}
	s0, ok0 := cryptIndex(salt[0])
	s1, ok1 := cryptIndex(salt[1])
	if !ok0 || !ok1 {
		return nil, fmt.Errorf("des-crypt: invalid salt: %w", ErrMalformed)
	}
	var key desBlock
	for i := 0; i < 8 && i < len(pw); i++ {
		for j := range 7 {
			key[8*i+j] = pw[i] >> (6 - j) & 1
		}
	}
	c := newDESCipher(key, s0|s1<<6)
	var block desBlock
	for range 25 {
		block = c.encrypt(block)
	}
	out := []byte(salt[:2])
	for i := range 11 {
		var v byte
		for j := range 6 {
			v <<= 1
			if k := 6*i + j; k < 64 {
				v |= block[k]
			}
		}
		out = append(out, itoa64[v])
	}
	return out, nil
}

func genDESCrypt(password, _ string, old []byte, p params) ([]byte, error) {
	var salt string
	if old != nil {
		salt = string(old[:min(2, len(old))])
	} else {
		var err error
		if salt, err = randomSalt(p.rand, 2); err != nil {
			return nil, err
		}
	}
	return desCrypt([]byte(password), salt)
}

func verifyDESCrypt(password string, raw []byte, user string) (bool, error) {
	if len(raw) != 13 {
		return false, fmt.Errorf("des-crypt: want 13 characters, have %d: %w", len(raw), ErrMalformed)
	}
	want, err := genDESCrypt(password, user, raw, params{})
	if err != nil {
		return false, err
	}
	return equal(want, raw), nil
}
