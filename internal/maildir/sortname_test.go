package maildir

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortedByName: the parsed-once order of a scan is sortCmp's order,
// ties on seconds and microseconds included.
func TestSortedByName(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	var bases []string
	for i := 0; i < 3000; i++ {
		sec := 1600000000 + rng.IntN(20)
		switch rng.IntN(4) {
		case 0:
			bases = append(bases, fmt.Sprintf("%d.M%dP%d.host,S=10,W=12", sec, rng.IntN(5), i))
		case 1:
			bases = append(bases, fmt.Sprintf("%d.P%d.host%d", sec, i, rng.IntN(3)))
		case 2:
			bases = append(bases, fmt.Sprintf("%d.M%dP%d.h", sec, rng.IntN(1000000), i))
		default:
			bases = append(bases, fmt.Sprintf("%dx%d", sec, i))
		}
	}
	got := sortedByName(bases)
	for i := 1; i < len(got); i++ {
		if sortCmp(got[i-1], got[i]) > 0 {
			t.Fatalf("%q sorted before %q", got[i-1], got[i])
		}
	}
	slices.Sort(got)
	want := slices.Clone(bases)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatal("sortedByName lost or duplicated names")
	}
}
