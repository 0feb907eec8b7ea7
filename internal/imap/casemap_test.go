package imap

import "testing"

func TestCaseMap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"ABC", "ABC"},
		{"abc", "ABC"},
		{"straße", "STRAßE"}, // ß has no simple titlecase mapping
		{"é", "E\u0301"},
		{"É", "E\u0301"},
		{"ǆ", "Dz\u030c"}, // U+01C6 titlecases to U+01C5, whose NFKD is D z caron
		{"ﬁ", "fi"},       // U+FB01 has no titlecase mapping; NFKD gives "fi"
		{"\u00a0", " "},
		{"x\xffy", "X\uFFFDY"},
	} {
		if got := CaseMap(tc.in); got != tc.want {
			t.Errorf("CaseMap(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"alice", "ALICE", 0}, {"a", "B", -1}, {"é", "f", -1}, {"é", "e", 1}, {"Å", "b", -1}, {"", "a", -1},
	} {
		if got := CompareCaseMap(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareCaseMap(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
