package imap

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestBaseSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, base string
		reply    bool
	}{
		{"", "", false},
		{"hello", "HELLO", false},
		{"Re: hello", "HELLO", true},
		{"RE:hello", "HELLO", true},
		{"re : hello", "HELLO", true}, // subj-refwd allows white space before ":"
		{"Reply: hello", "REPLY: HELLO", false},
		{"Fwd: Re: hello", "HELLO", true},
		{"Fw: hello", "HELLO", true},
		{"hello (fwd)", "HELLO", true},
		{"hello (fwd) (FWD)  ", "HELLO", true},
		{"[list] hello", "HELLO", false},
		{"[list] Re: hello", "HELLO", true},
		{"Re: [list] hello", "HELLO", true},
		{"Re[2]: hello", "HELLO", true},
		{"[Fwd: hello]", "HELLO", true},
		{"[Fwd: Re: [list] hello (fwd)]", "HELLO", true},
		{"[only a blob]", "[ONLY A BLOB]", false},
		{"[a][b] hello", "HELLO", false},
		{"  multiple\t\tspaces  here ", "MULTIPLE SPACES HERE", false},
		{"=?UTF-8?Q?Re=3A_caf=C3=A9?=", "CAFE\u0301", true},
		{"=?ISO-8859-1?Q?=C5sa?= and friends", "A\u030aSA AND FRIENDS", false},
		{"Re: (fwd)", "", true},
		{"Re:", "", true},
		{"[x]", "[X]", false},
		{"[x] ", "[X]", false},
		{"fwd", "FWD", false},
		{"bad \xff byte", "BAD \uFFFD BYTE", false},
		{"bad \xff\xfe bytes", "BAD \uFFFD\uFFFD BYTES", false},
		{"no\u00a0break", "NO BREAK", false},
	} {
		base, reply := BaseSubject(tc.in)
		if base != tc.base || reply != tc.reply {
			t.Errorf("BaseSubject(%q) = %q, %v; want %q, %v", tc.in, base, reply, tc.base, tc.reply)
		}
	}
}

func FuzzBaseSubject(f *testing.F) {
	for _, s := range []string{"Re: [x] Fwd: y (fwd)", "[Fwd: a]", "=?UTF-8?B?w4lt?= z", "[[[", "re[", " \t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, _ := BaseSubject(s)
		if !utf8.ValidString(base) {
			t.Fatalf("BaseSubject(%q) = %q: invalid UTF-8", s, base)
		}
		if strings.HasPrefix(base, " ") || strings.HasSuffix(base, " ") || strings.Contains(base, "  ") {
			t.Fatalf("BaseSubject(%q) = %q: unpacked white space", s, base)
		}
	})
}
