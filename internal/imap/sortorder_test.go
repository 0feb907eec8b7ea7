package imap

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortOrder checks SortOrder against a plain comparison sort by
// CompareSortData, for the radix path (one key, large input), the small
// one and several keys, with few distinct values so that ties are many.
func TestSortOrder(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"", "a", "ab", "abcdefghij", "abcdefghik", "b", "ä", "zz"}
	for _, n := range []int{0, 1, 7, 300, 5000} {
		msgs := make([]SortData, n)
		for i := range msgs {
			msgs[i] = SortData{Seq: uint32(i + 1), UID: uint32(i*2 + 1), Arrival: r.Int64N(1<<20) - 1<<19,
				Date: r.Int64N(1 << 34), Size: r.Int64N(3), Subject: words[r.IntN(len(words))],
				From: words[r.IntN(len(words))]}
		}
		for _, crit := range [][]SortCriterion{
			{{Key: SortDate}}, {{Key: SortDate, Reverse: true}}, {{Key: SortArrival}}, {{Key: SortSize, Reverse: true}},
			{{Key: SortSubject}}, {{Key: SortFrom, Reverse: true}}, {{Key: SortSubject}, {Key: SortSize, Reverse: true}},
			{{Key: SortSize}, {Key: SortFrom}, {Key: SortArrival}},
			{{Key: SortSize}, {Key: SortDate, Reverse: true}}, {{Key: SortSize, Reverse: true}, {Key: SortArrival}},
		} {
			want := make([]int32, n)
			for i := range want {
				want[i] = int32(i)
			}
			slices.SortFunc(want, func(a, b int32) int { return CompareSortData(&msgs[a], &msgs[b], crit) })
			if got := SortOrder(msgs, crit); !slices.Equal(got, want) {
				t.Fatalf("n=%d %v: order differs from CompareSortData's", n, crit)
			}
			if StringOnly(crit) {
				strs := make([]SortString, n)
				for i := range msgs {
					strs[i] = SortString{Seq: msgs[i].Seq, UID: msgs[i].UID, Key: msgs[i].KeyString(crit[0].Key)}
				}
				if got := SortOrderStrings(strs, crit[0].Reverse); !slices.Equal(got, want) {
					t.Fatalf("n=%d %v: SortOrderStrings differs from CompareSortData's", n, crit)
				}
			}
			if NumericOnly(crit) {
				nums := make([]SortNumbers, n)
				for i := range msgs {
					nums[i] = msgs[i].Numbers()
				}
				if got := SortOrderNumbers(nums, crit); !slices.Equal(got, want) {
					t.Fatalf("n=%d %v: SortOrderNumbers differs from CompareSortData's", n, crit)
				}
			}
		}
	}
}
