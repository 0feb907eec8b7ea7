package imap

import (
	"slices"
	"testing"
)

func TestParseSeqSet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want SeqSet
		str  string
	}{
		{"1", SeqSet{{1, 1}}, "1"},
		{"1:3,5", SeqSet{{1, 3}, {5, 5}}, "1:3,5"},
		{"*", SeqSet{{Star, Star}}, "*"},
		{"4:*", SeqSet{{4, Star}}, "4:*"},
		{"*:4", SeqSet{{Star, 4}}, "*:4"},
		{"4294967295", SeqSet{{4294967295, 4294967295}}, "4294967295"},
	}
	for _, tt := range tests {
		got, err := ParseSeqSet(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ParseSeqSet(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.str {
			t.Errorf("String() = %q, want %q", s, tt.str)
		}
	}
	for _, bad := range []string{"", "0", "1,", ",1", "1:", ":1", "a", "01", "4294967296", "1::2", "1:2:3", "**"} {
		if _, err := ParseSeqSet(bad); err == nil {
			t.Errorf("ParseSeqSet(%q) succeeded", bad)
		}
	}
}

func TestSeqSetContains(t *testing.T) {
	t.Parallel()
	set, _ := ParseSeqSet("2:4,10:*")
	for n, want := range map[uint32]bool{1: false, 2: true, 4: true, 5: false, 10: true, 11: true} {
		if got := set.Contains(n, 12); got != want {
			t.Errorf("Contains(%d) = %v", n, got)
		}
	}
	// RFC 3501: "n:*" with max < n includes max.
	set, _ = ParseSeqSet("20:*")
	if !set.Contains(7, 7) || set.Contains(6, 7) {
		t.Error("20:* with max 7 must hold exactly 7")
	}
	if !set.Dynamic() {
		t.Error("Dynamic() = false")
	}
}

func TestSetFromNums(t *testing.T) {
	t.Parallel()
	if got := SetFromNums([]uint32{5, 1, 2, 3, 9, 3}).String(); got != "1:3,5,9" {
		t.Errorf("SetFromNums = %q", got)
	}
	if got := FormatNums([]uint32{7, 8, 9, 3, 4}); got != "7:9,3:4" {
		t.Errorf("FormatNums = %q", got)
	}
	if SetFromNums(nil) != nil {
		t.Error("SetFromNums(nil) != nil")
	}
}

func FuzzParseSeqSet(f *testing.F) {
	for _, s := range []string{"1", "1:*", "1,2:4,*", "0", "::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := ParseSeqSet(s)
		if err != nil {
			return
		}
		again, err := ParseSeqSet(set.String())
		if err != nil || !slices.Equal(set, again) {
			t.Fatalf("round trip %q -> %q failed: %v", s, set.String(), err)
		}
	})
}
