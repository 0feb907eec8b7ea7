package syntax

import (
	"os"
	"path/filepath"
	"roost/internal/shareddir"
	"strings"
	"testing"
)

func TestParsePositions(t *testing.T) {
	t.Parallel()
	src := "require [\"fileinto\"];\n# rule:[Dovecot]\nif allof (header :contains \"List-Id\" \"dovecot@dovecot.org\")\n{\n    fileinto \"INBOX/maillinglists/Dovecot\";\n    stop;\n}\n"
	s, errs := Parse([]byte(src))
	if errs != nil {
		t.Fatal(errs)
	}
	if len(s.Commands) != 2 || s.Commands[1].Name != "if" || s.Commands[1].Pos != (Pos{3, 1}) {
		t.Fatalf("bad AST: %+v", s.Commands)
	}
	h := s.Commands[1].Tests[0].Tests[0]
	if h.Name != "header" || h.Pos != (Pos{3, 11}) || h.Args[0].Tag != "contains" {
		t.Fatalf("bad header test: %+v", h)
	}
	if got := s.Commands[1].Block[0].Args[0].Strings[0]; got != "INBOX/maillinglists/Dovecot" {
		t.Fatalf("fileinto arg %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ src, want string }{
		{"require \"fileinto\";\nif true { fileinto \"x\" }\n", "line 2: expected end of command ';' or the beginning of a compound block '{', but found '}'"},
		{"if anyof (header :is \"To\" \"a@b\",) { keep; }", "expecting test identifier after ',' in test list"},
		{"if size :over 18446744073709551616 { stop; }", "number exceeds integer limits"},
		{"keep", "expected end of command ';'"},
		{"vacation text:\nfoo\n", "end of file before end of multi-line string"},
	}
	for _, c := range cases {
		_, errs := Parse([]byte(c.src))
		if errs == nil || !strings.Contains(errs.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.src, errs, c.want)
		}
	}
}

func TestMultiline(t *testing.T) {
	t.Parallel()
	s, errs := Parse([]byte("set \"a\" text: # c\nLine 1\n..Line 2\n.\n;"))
	if errs != nil {
		t.Fatal(errs)
	}
	if got := s.Commands[0].Args[1].Strings[0]; got != "Line 1\r\n.Line 2\r\n" {
		t.Fatalf("got %q", got)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("require [\"fileinto\"]; if header :contains \"subject\" \"x\" { fileinto \"a\"; } else { keep; }"))
	f.Add([]byte("vacation :days 3 text:\nhi\n.\n;"))
	f.Add([]byte("if anyof (not exists [\"From\",\"Date\"], size :over 10M) { discard; }"))
	files, _ := filepath.Glob(shareddir.Path("sieve-tests/pigeonhole/*/*.sieve"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, errs := Parse(data)
		if s == nil {
			t.Fatal("nil script")
		}
		for _, e := range errs {
			if e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Fatalf("bad position %v", e.Pos)
			}
		}
	})
}
