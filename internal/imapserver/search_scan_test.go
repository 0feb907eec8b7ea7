package imapserver

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCannotContain: whenever the prefilter rules a value out, the full
// decode-and-fold comparison agrees, on generated values with folding,
// encoded words, blanks, quoted pairs and mixed case.
func TestCannotContain(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"Re:", "needle", "NeEdLe", "nee", "dle", " ", "\t", "\n ", "\n", "\r", "=?utf-8?q?n=65edle?=", "=?", "a.b", "x-y", "\\", "é", "_", "Q", "0", "(c)", "\"q\""}
	needles := []string{"needle", "nee", "a.b", "x-y", "eedl", "re", "q", "0", "needle x", "é"}
	ruled := 0
	for range 50000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		raw := []byte(b.String())
		for _, kind := range []headerKind{hdrPlain, hdrLWSP, hdrAddress} {
			n := needles[r.IntN(len(needles))]
			k := &searchKey{op: opHeader, hdrKind: kind, folded: fold(n)}
			if !cannotContain(raw, k) {
				continue
			}
			ruled++
			if strings.Contains(headerSearchValue(raw, kind), k.folded) {
				t.Fatalf("cannotContain(%q, %q, kind %d) but the decoded value %q contains it", raw, n, kind, headerSearchValue(raw, kind))
			}
		}
	}
	if ruled == 0 {
		t.Error("the prefilter never ruled a value out")
	}
}
