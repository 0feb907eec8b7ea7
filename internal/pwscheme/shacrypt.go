package pwscheme

import (
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

// shaCrypt describes one variant of Ulrich Drepper's SHA-crypt.
type shaCrypt struct {
	id      string
	newHash func() hash.Hash
	order   [][3]int // byte triples for the final encoding
	tail    func(dst, sum []byte) []byte
}

func sha256Crypt() shaCrypt {
	return shaCrypt{
		id:      "$5$",
		newHash: sha256.New,
		order: [][3]int{{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
			{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29}},
		tail: func(dst, s []byte) []byte { return b64From24(dst, 0, s[31], s[30], 3) },
	}
}

func sha512Crypt() shaCrypt {
	return shaCrypt{
		id:      "$6$",
		newHash: sha512.New,
		order: [][3]int{{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
			{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10},
			{53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16},
			{59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41}},
		tail: func(dst, s []byte) []byte { return b64From24(dst, 0, 0, s[63], 2) },
	}
}

func genSHA256Crypt(password, _ string, old []byte, p params) ([]byte, error) {
	return sha256Crypt().gen(password, old, p)
}

func genSHA512Crypt(password, _ string, old []byte, p params) ([]byte, error) {
	return sha512Crypt().gen(password, old, p)
}

// shaSetting is the parsed "$5$rounds=N$salt$" part of a SHA-crypt string.
type shaSetting struct {
	salt     string
	rounds   int
	explicit bool // rounds= was present and is written back
}

// parseSHACrypt reads id, optional rounds= and salt (at most 16 characters).
func parseSHACrypt(s, id string) (shaSetting, error) {
	rest, ok := strings.CutPrefix(s, id)
	if !ok {
		return shaSetting{}, fmt.Errorf("sha-crypt: missing %s: %w", id, ErrMalformed)
	}
	set := shaSetting{rounds: shaCryptDefault}
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		i := strings.IndexByte(r, '$')
		if i < 0 {
			return shaSetting{}, fmt.Errorf("sha-crypt: unterminated rounds: %w", ErrMalformed)
		}
		n, err := strconv.ParseUint(r[:i], 10, 64)
		if err != nil {
			return shaSetting{}, fmt.Errorf("sha-crypt: bad rounds: %w", ErrMalformed)
		}
		set.rounds = int(min(max(n, shaCryptMin), shaCryptMax))
		set.explicit = true
		rest = r[i+1:]
	}
	if i := strings.IndexByte(rest, '$'); i >= 0 {
		rest = rest[:i]
	}
	set.salt = rest[:min(len(rest), shaCryptSaltLen)]
	return set, nil
}

func (c shaCrypt) gen(password string, old []byte, p params) ([]byte, error) {
	var set shaSetting
	if old != nil {
		var err error
		if set, err = parseSHACrypt(string(old), c.id); err != nil {
			return nil, err
		}
	} else {
		salt, err := randomSalt(p.rand, shaCryptSaltLen)
		if err != nil {
			return nil, err
		}
		set = shaSetting{salt: salt, rounds: shaCryptDefault}
		if p.rounds != 0 && p.rounds != shaCryptDefault {
			set.rounds = min(max(p.rounds, shaCryptMin), shaCryptMax)
			set.explicit = true
		}
	}
	return c.compute([]byte(password), set), nil
}

// compute follows Drepper's specification, steps 1-22.
func (c shaCrypt) compute(pw []byte, set shaSetting) []byte {
	salt := []byte(set.salt)
	b := c.newHash()
	b.Write(pw)
	b.Write(salt)
	b.Write(pw)
	bSum := b.Sum(nil)

	a := c.newHash()
	a.Write(pw)
	a.Write(salt)
	a.Write(repeat(bSum, len(pw)))
	for n := len(pw); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(bSum)
		} else {
			a.Write(pw)
		}
	}
	aSum := a.Sum(nil)

	dp := c.newHash()
	for range len(pw) {
		dp.Write(pw)
	}
	pSeq := repeat(dp.Sum(nil), len(pw))

	ds := c.newHash()
	for range 16 + int(aSum[0]) {
		ds.Write(salt)
	}
	sSeq := repeat(ds.Sum(nil), len(salt))

	sum := aSum
	for i := range set.rounds {
		h := c.newHash()
		if i&1 != 0 {
			h.Write(pSeq)
		} else {
			h.Write(sum)
		}
		if i%3 != 0 {
			h.Write(sSeq)
		}
		if i%7 != 0 {
			h.Write(pSeq)
		}
		if i&1 != 0 {
			h.Write(sum)
		} else {
			h.Write(pSeq)
		}
		sum = h.Sum(sum[:0])
	}
	return c.encode(set, sum)
}

func (c shaCrypt) encode(set shaSetting, sum []byte) []byte {
	out := []byte(c.id)
	if set.explicit {
		out = fmt.Appendf(out, "rounds=%d$", set.rounds)
	}
	out = append(out, set.salt...)
	out = append(out, '$')
	for _, t := range c.order {
		out = b64From24(out, sum[t[0]], sum[t[1]], sum[t[2]], 4)
	}
	return c.tail(out, sum)
}

// repeat returns n bytes made of copies of block.
func repeat(block []byte, n int) []byte {
	out := make([]byte, 0, n)
	for len(out) < n {
		out = append(out, block[:min(len(block), n-len(out))]...)
	}
	return out
}
