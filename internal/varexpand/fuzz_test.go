package varexpand

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"testing"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func hexOf(h uint32) string { return strconv.FormatUint(uint64(h), 16) }

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"%u", "%2.1Ln", "%-2.2p", "%08Xr", "%{env:HOME}", "%%", "%{user", "%4.256Hu", "a%", "%L{domain}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, _ := Expander{Vars: testVars, Getenv: func(string) string { return "" }}.Expand(s)
		if len(out) > maxWidth*len(s)+64*len(s) {
			t.Fatalf("output too large: %d for %d", len(out), len(s))
		}
	})
}
