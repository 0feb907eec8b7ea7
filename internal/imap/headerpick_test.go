package imap

import (
	"bytes"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"roost/internal/message"
)

var pickNames = [][]string{{"Subject"}, {"date", "FROM"}, {"Message-ID", "References", "In-Reply-To"}, {"X"}, {""}, {"keywords", "Subject"}}

// checkPick compares PickFields with ParseHeader filtered by name.
func checkPick(t *testing.T, block []byte) {
	t.Helper()
	all := message.ParseHeader(block)
	for _, names := range pickNames {
		var want []message.Field
		for _, f := range all {
			if nameIn(f.Name, names) {
				want = append(want, f)
			}
		}
		got := PickFields(block, names...)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("PickFields(%q, %q) =\n%q\nwant\n%q", block, names, got, want)
		}
	}
}

// TestPickFields: PickFields agrees with message.ParseHeader on the
// corpus and on generated blocks with folding, bare LFs, blanks before
// colons, lines without colons and no final newline.
func TestPickFields(t *testing.T) {
	t.Parallel()
	n := 0
	filepath.WalkDir("../../../shared/corpus", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || n >= 3000 {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil {
			checkPick(t, data)
			n++
		}
		return nil
	})
	r := rand.New(rand.NewPCG(1, 2))
	parts := []string{"Subject: a", "subject :b", "Date:  x", "From:", "X", "x:y", " cont", "\tcont", "", ":", "Message-ID: <a@b>",
		"References: <a@b>", " <c@d>", "In-Reply-To:<e@f>", "\r", "SUBJECT\t: tab", "\u017fubject: long s", "\u212aeywords: kelvin"}
	for range 20000 {
		var b bytes.Buffer
		for range r.IntN(8) {
			b.WriteString(parts[r.IntN(len(parts))])
			switch r.IntN(4) {
			case 0:
				b.WriteString("\n")
			case 3:
			default:
				b.WriteString("\r\n")
			}
		}
		checkPick(t, b.Bytes())
	}
}

func FuzzPickFields(f *testing.F) {
	f.Add([]byte("Subject: a\r\n b\r\nFrom: x\r\n\r\nbody"))
	f.Add([]byte(" lead\nDate : d\n\tx"))
	f.Fuzz(func(t *testing.T, block []byte) { checkPick(t, block) })
}
