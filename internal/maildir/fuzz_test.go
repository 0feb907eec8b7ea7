package maildir

import (
	"strings"
	"testing"
)

func FuzzUidlist(f *testing.F) {
	f.Add([]byte("3 V1795304957 N1 G82f40315fb2d026b3e0b000083ecc375\n1 :1795304955.M640423P2882.vm,S=28,W=32\n2 W40 S38 :x\n"))
	f.Add([]byte("1 123 5\n1 foo\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		u := newUidlist()
		if err := u.parse(data); err != nil {
			return
		}
		for i := 1; i < len(u.recs); i++ {
			if u.recs[i].uid <= u.recs[i-1].uid {
				t.Fatalf("unordered UIDs accepted")
			}
		}
		if len(u.recs) > 0 && u.nextUID <= u.recs[len(u.recs)-1].uid {
			t.Fatalf("nextUID %d <= last UID", u.nextUID)
		}
	})
}

func FuzzFileName(f *testing.F) {
	f.Add("1795304955.M640423P2882.vm,S=28,W=32:2,FSab")
	f.Add("1700000000.P1Q1.mx")
	f.Fuzz(func(t *testing.T, name string) {
		base, letters, _ := splitName(name)
		fs := parseLetters(letters)
		again := parseLetters(fs.letters())
		if again != fs {
			t.Fatalf("letters do not round-trip: %q -> %q", letters, fs.letters())
		}
		sizeField(base, 'S')
		sizeField(base, 'W')
		_ = sortCmp(name, base)
	})
}

func FuzzSubscriptionsEscape(f *testing.F) {
	f.Add("a\tb\x01c\nd")
	f.Fuzz(func(t *testing.T, s string) {
		if got := tabUnescape(tabEscape(s)); got != s {
			t.Fatalf("tab escape round trip: %q -> %q", s, got)
		}
		if strings.ContainsAny(tabEscape(s), "\t\n\r") {
			t.Fatalf("escaped form contains separators")
		}
	})
}

func FuzzLocation(f *testing.F) {
	f.Add("maildir:~/Maildir:INBOX=~/in::box:LAYOUT=fs:UTF-8:INDEX=MEMORY")
	f.Fuzz(func(t *testing.T, loc string) {
		l, err := parseLocation(loc, "/home/u")
		if err == nil && (!strings.HasPrefix(l.root, "/") || strings.Contains(l.root+"/", "/../")) {
			t.Fatalf("root %q escapes", l.root)
		}
	})
}
