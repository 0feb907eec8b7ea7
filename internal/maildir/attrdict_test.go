package maildir

import (
	"bytes"
	"testing"
)

// FuzzAttrDict: any dict file parses; writing it back and parsing again
// gives the same entries; escaping round-trips any key or value.
func FuzzAttrDict(f *testing.F) {
	f.Add([]byte("priv/879e07052b54026b0933000083ecc375/ml\nline1\x01ttab\x01r\x01n\n"))
	f.Add([]byte("shared/g/comment\nx\x011y\nodd key without value\n"))
	f.Add([]byte("\x01\x01\n\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseAttrDict(data)
		if err != nil {
			return
		}
		out := d.bytes()
		d2, err := parseAttrDict(out)
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		if !bytes.Equal(d2.bytes(), out) {
			t.Fatalf("not stable: %q then %q", out, d2.bytes())
		}
		s := string(data)
		if got := unescapeDict(escapeDict(s)); got != s {
			t.Fatalf("escape round trip of %q gave %q", s, got)
		}
	})
}
