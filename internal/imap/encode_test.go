package imap

import "testing"

func TestAppendString(t *testing.T) {
	t.Parallel()
	s := func(v string) *string { return &v }
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"nil", AppendNString(nil, nil), "NIL"},
		{"plain", AppendString(nil, "abc"), `"abc"`},
		{"escapes", AppendString(nil, `a"b\c`), `"a\"b\\c"`},
		{"too many escapes", AppendString(nil, `"""""`), "{5}\r\n\"\"\"\"\""},
		{"8bit", AppendString(nil, "gr\xfc"), "{3}\r\ngr\xfc"},
		{"crlf", AppendString(nil, "a\r\nb"), "{4}\r\na\r\nb"},
		{"nul cuts", AppendString(nil, "ab\x00cd"), `"ab"`},
		{"nolf", AppendNStringNoLF(nil, s("a\r\n b\r\nc")), `"a b c"`},
		{"astring atom", AppendAString(nil, "INBOX"), "INBOX"},
		{"astring nil", AppendAString(nil, "nil"), `"nil"`},
		{"astring space", AppendAString(nil, "a b"), `"a b"`},
		{"human fast path", AppendHumanString(nil, "Won't Die"), `"Won't Die"`},
		{"human collapse", AppendHumanString(nil, " a \t b\r\n c "), "{5}\r\na b c"},
		{"human only space", AppendHumanString(nil, "  "), `""`},
		{"human quote", AppendHumanString(nil, `say "hi"`), "{8}\r\nsay \"hi\""},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func FuzzAppendHumanString(f *testing.F) {
	f.Add("  a\tb \r\n")
	f.Fuzz(func(t *testing.T, s string) {
		_ = AppendHumanString(nil, s)
		_ = AppendString(nil, s)
		_ = AppendNStringNoLF(nil, &s)
	})
}
