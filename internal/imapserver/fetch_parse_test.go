package imapserver

import (
	"bufio"
	"strings"
	"testing"

	"roost/internal/imapwire"
)

func testDecoder(s string) *imapwire.Decoder {
	d := imapwire.NewDecoder(bufio.NewReader(strings.NewReader(s)), imapwire.DecoderOptions{
		Continue: func() error { return nil },
	})
	d.Begin()
	return d
}

// fetchNames returns the response names of a parsed request, in order.
func fetchNames(req *fetchRequest) string {
	var out []string
	for _, it := range req.items {
		switch it.kind {
		case fetchSection:
			out = append(out, it.label)
		default:
			for name, k := range simpleFetchItems {
				if k == it.kind {
					out = append(out, name)
				}
			}
		}
	}
	return strings.Join(out, " ")
}

func TestParseFetchAtts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		uid      bool
		seen     bool
	}{
		{in: "FAST", want: "FLAGS INTERNALDATE RFC822.SIZE"},
		{in: "all", want: "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE"},
		{in: "FULL", want: "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY"},
		{in: "FLAGS", uid: true, want: "UID FLAGS"},
		{in: "(flags uid)", uid: true, want: "UID FLAGS"},
		{in: "(ENVELOPE FLAGS BODY.PEEK[] UID)", want: "FLAGS UID ENVELOPE BODY[]"},
		{in: "(BODY[] ENVELOPE)", want: "FLAGS BODY[] ENVELOPE", seen: true},
		{in: "(body[text]<0.140>)", want: "FLAGS BODY[TEXT]<0>", seen: true},
		{in: `BODY.PEEK[HEADER.FIELDS (Message-ID "Date")]`, want: `BODY[HEADER.FIELDS (MESSAGE-ID "DATE")]`},
		{in: `(BODY.PEEK[1.2.HEADER.FIELDS.NOT (x)]<5>)`, want: `BODY[1.2.HEADER.FIELDS.NOT (X)]<5>`},
		{in: "(BODY.PEEK[1.2.MIME] BODY.PEEK[1.2.MIME])", want: "BODY[1.2.MIME] BODY[1.2.MIME]"},
		{in: "(RFC822.HEADER RFC822.SIZE)", want: "RFC822.SIZE RFC822.HEADER"},
		{in: "(RFC822.TEXT)", want: "FLAGS RFC822.TEXT", seen: true},
		{in: "(BODY BODYSTRUCTURE MODSEQ)", want: "MODSEQ BODY BODYSTRUCTURE"},
		{in: "(FLAGS FLAGS)", want: "FLAGS"},
	}
	for _, tt := range tests {
		req, err := parseFetchAtts(testDecoder(tt.in+"\r\n"), tt.uid)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got := fetchNames(req); got != tt.want || req.setSeen != tt.seen {
			t.Errorf("%s: got %q seen %v, want %q seen %v", tt.in, got, req.setSeen, tt.want, tt.seen)
		}
	}
}

func TestParseFetchAttsErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"()", "(FLAGS", "BOGUS", "BODY[", "BODY[HEADER.FIELDS]", "BODY[HEADER.FIELDS ()]",
		"BODY[1.]", "BODY[1.FOO]", "BODY[MIME]", "BODY[]<1.x>", "BODY[]<1", "BODY[]x",
		"BODYX", "(FLAGS \"x\")", "BODY[1.2a]", "(FLAGS)x",
	} {
		req, err := parseFetchAtts(testDecoder(in+"\r\n"), false)
		if err == nil && in == "(FLAGS)x" {
			continue // trailing junk is the caller's CRLF check
		}
		if err == nil {
			t.Errorf("%s: parsed as %q, want error", in, fetchNames(req))
		}
	}
}

func FuzzFetchParse(f *testing.F) {
	for _, s := range []string{
		"FAST", "(FLAGS UID)", "BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10>",
		"(BODY[1.2.3.MIME] RFC822)", "BODY[{3}\r\nabc]", "(BODY[TEXT]<0.>)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, err := parseFetchAtts(testDecoder(s+"\r\n"), true)
		if err != nil {
			return
		}
		if len(req.items) == 0 || req.items[0].kind != fetchUID {
			t.Fatalf("%q: UID FETCH without UID first: %+v", s, req.items)
		}
		for _, it := range req.items {
			if it.kind == fetchSection && (it.offset < 0 || it.count < -1) {
				t.Fatalf("%q: bad partial %+v", s, it)
			}
		}
	})
}
