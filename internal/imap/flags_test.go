package imap

import "testing"

func TestCanonicalFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{`\seen`, FlagSeen, true},
		{`\DELETED`, FlagDeleted, true},
		{`\Recent`, FlagRecent, true},
		{`$Forwarded`, `$Forwarded`, true},
		{`\Foo`, `\Foo`, false},
		{`a(b`, `a(b`, false},
		{``, ``, false},
	}
	for _, tt := range tests {
		got, ok := CanonicalFlag(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CanonicalFlag(%q) = %q, %v", tt.in, got, ok)
		}
	}
}
