package imap

import "testing"

// The expected lines are Dovecot 2.3.19's answers for the same results.
func TestAppendESearch(t *testing.T) {
	t.Parallel()
	p := func(s string) *PartialRange {
		r, err := ParsePartialRange(s)
		if err != nil {
			t.Fatal(err)
		}
		return &r
	}
	for _, tc := range []struct {
		uid  bool
		ret  SearchReturn
		nums []uint32
		want string
	}{
		{false, SearchReturn{All: true}, []uint32{1, 2, 3, 4, 5, 6, 7}, `* ESEARCH (TAG "a") ALL 1:7`},
		{false, SearchReturn{Min: true, Max: true, Count: true, All: true}, []uint32{2, 3, 4, 6, 7}, `* ESEARCH (TAG "a") MIN 2 MAX 7 ALL 2:4,6:7 COUNT 5`},
		{true, SearchReturn{All: true}, []uint32{1, 3, 5, 6, 7}, `* ESEARCH (TAG "a") UID ALL 1,3,5:7`},
		{false, SearchReturn{Count: true}, nil, `* ESEARCH (TAG "a") COUNT 0`},
		{false, SearchReturn{Min: true, Max: true, All: true}, nil, `* ESEARCH (TAG "a")`},
		{false, SearchReturn{Partial: p("1:2")}, []uint32{1, 2, 3}, `* ESEARCH (TAG "a") PARTIAL (1:2 1:2)`},
		{false, SearchReturn{Partial: p("2:100")}, []uint32{2, 3, 4, 5, 6, 7}, `* ESEARCH (TAG "a") PARTIAL (2:100 3:7)`},
		{false, SearchReturn{Partial: p("50:100")}, []uint32{1, 2}, `* ESEARCH (TAG "a") PARTIAL (50:100 NIL)`},
		{false, SearchReturn{Partial: p("4:2")}, []uint32{1, 2, 3, 4, 5}, `* ESEARCH (TAG "a") PARTIAL (2:4 2:4)`},
		{false, SearchReturn{Partial: p("3:3")}, []uint32{1, 2, 3}, `* ESEARCH (TAG "a") PARTIAL (3:3 3)`},
		{false, SearchReturn{Partial: p("1:3"), Count: true, Min: true}, []uint32{1, 2, 3, 4, 5, 6, 7}, `* ESEARCH (TAG "a") MIN 1 PARTIAL (1:3 1:3) COUNT 7`},
		// ESORT: the result in sort order.
		{false, SearchReturn{All: true, Min: true, Max: true, Count: true}, []uint32{7, 5, 4, 1, 3, 2, 6}, `* ESEARCH (TAG "a") MIN 7 MAX 6 ALL 7,5,4,1,3,2,6 COUNT 7`},
		{false, SearchReturn{All: true}, []uint32{7, 6, 5, 4, 3, 2, 1}, `* ESEARCH (TAG "a") ALL 7,6,5,4,3,2,1`},
		{false, SearchReturn{Partial: p("2:4")}, []uint32{7, 5, 4, 1, 3, 2, 6}, `* ESEARCH (TAG "a") PARTIAL (2:4 5,4,1)`},
	} {
		got := string(AppendESearch(nil, "a", tc.uid, tc.ret, tc.nums))
		if got != tc.want+"\r\n" {
			t.Errorf("got  %q\nwant %q", got, tc.want+"\r\n")
		}
	}
	for _, bad := range []string{"0:2", "-1:-2", "1", "1:*", "a:b", ""} {
		if _, err := ParsePartialRange(bad); err == nil {
			t.Errorf("ParsePartialRange(%q) succeeded", bad)
		}
	}
}

func TestSavedResult(t *testing.T) {
	t.Parallel()
	nums := []uint32{3, 4, 5}
	for _, tc := range []struct {
		ret  SearchReturn
		want []uint32
	}{
		{SearchReturn{Save: true}, []uint32{3, 4, 5}},
		{SearchReturn{Save: true, Min: true}, []uint32{3}},
		{SearchReturn{Save: true, Min: true, Max: true}, []uint32{3, 5}},
		{SearchReturn{Save: true, Max: true, Count: true}, []uint32{3, 4, 5}},
	} {
		got := SavedResult(tc.ret, nums)
		if len(got) != len(tc.want) {
			t.Errorf("%+v: got %v, want %v", tc.ret, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v: got %v, want %v", tc.ret, got, tc.want)
			}
		}
	}
}
