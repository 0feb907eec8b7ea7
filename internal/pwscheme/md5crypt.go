package pwscheme

import (
	"crypto/md5"
	"fmt"
	"strings"
)

// parseMD5CryptSalt returns the salt of "$1$salt$hash" (at most 8 characters).
func parseMD5CryptSalt(s string) (string, error) {
	rest, ok := strings.CutPrefix(s, "$1$")
	if !ok {
		return "", fmt.Errorf("md5-crypt: missing $1$: %w", ErrMalformed)
	}
	if i := strings.IndexByte(rest, '$'); i >= 0 {
		rest = rest[:i]
	}
	if len(rest) > md5CryptSaltLen {
		rest = rest[:md5CryptSaltLen]
	}
	return rest, nil
}

// genMD5Crypt implements Poul-Henning Kamp's FreeBSD MD5-crypt ($1$).
func genMD5Crypt(password, _ string, old []byte, p params) ([]byte, error) {
	var salt string
	var err error
	if old != nil {
		salt, err = parseMD5CryptSalt(string(old))
	} else {
		salt, err = randomSalt(p.rand, md5CryptSaltLen)
	}
	if err != nil {
		return nil, err
	}
	return md5Crypt([]byte(password), []byte(salt)), nil
}

func md5Crypt(pw, salt []byte) []byte {
	const magic = "$1$"
	alt := md5.New()
	alt.Write(pw)
	alt.Write(salt)
	alt.Write(pw)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write([]byte(magic))
	ctx.Write(salt)
	for n := len(pw); n > 0; n -= 16 {
		ctx.Write(altSum[:min(n, 16)])
	}
	for i := len(pw); i != 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final := ctx.Sum(nil)
	for i := range 1000 {
		c := md5.New()
		if i&1 != 0 {
			c.Write(pw)
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write(salt)
		}
		if i%7 != 0 {
			c.Write(pw)
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write(pw)
		}
		final = c.Sum(final[:0])
	}
	out := append([]byte(magic), salt...)
	out = append(out, '$')
	for _, t := range [5][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = b64From24(out, final[t[0]], final[t[1]], final[t[2]], 4)
	}
	return b64From24(out, 0, 0, final[11], 2)
}
