package imap

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// TestSortKeysRoundTrip: sort data decoded from the cached keys equals
// what NewSortData computes from the header, for every field set, on the
// corpus and on headers without Date, Subject or addresses.
func TestSortKeysRoundTrip(t *testing.T) {
	t.Parallel()
	hdrs := benchMailbox(300)
	hdrs = append(hdrs, []byte("X: y\r\n\r\n"), []byte("Date: nonsense\r\nSubject: Re: [x] Fwd: hi\r\nFrom: undisclosed:;\r\n\r\n"), nil)
	n := 0
	filepath.WalkDir("../../../shared/corpus", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || n >= 2000 {
			return nil
		}
		if data, err := os.ReadFile(p); err == nil {
			hdrs = append(hdrs, data)
			n++
		}
		return nil
	})
	arrival := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	sets := []SortFields{0, FieldDate, FieldSubject, FieldFrom | FieldCc, FieldDisplayFrom | FieldDisplayTo | FieldTo, FieldsThread, FieldsHeader}
	for i, h := range hdrs {
		keys := AppendSortKeys(nil, h)
		for _, f := range sets {
			want := NewSortData(h, arrival, int64(i), f)
			got, ok := DecodeSortKeys(keys, arrival, int64(i), f)
			if !ok || !reflect.DeepEqual(got, want) {
				t.Fatalf("header %d, fields %b: decoded %+v (ok %v), want %+v", i, f, got, ok, want)
			}
		}
	}
	if _, ok := DecodeSortKeys([]byte{9, 0}, arrival, 0, FieldDate); ok {
		t.Error("unknown version decoded")
	}
}

func FuzzDecodeSortKeys(f *testing.F) {
	f.Add(AppendSortKeys(nil, benchMailbox(3)[2]))
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeSortKeys(b, time.Unix(0, 0), 0, FieldsHeader)
	})
}
