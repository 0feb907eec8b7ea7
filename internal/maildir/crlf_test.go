package maildir

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"roost/internal/vfs"
)

// Dovecot 2.3.19 (doveadm save) stored this input as dovecotStored, with
// S=44 and W=49 in the file name: CR LF becomes LF, a CR before CR LF
// stays, a bare CR stays.
const (
	crlfInput     = "From: a@b\r\nSubject: crlf\r\n\r\nline1\r\nbare\rcr\r\r\nend\r\n"
	dovecotStored = "From: a@b\nSubject: crlf\n\nline1\nbare\rcr\r\nend\n"
)

func TestLFWriterMatchesDovecot(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := &lfWriter{w: &out}
	// feed byte by byte to cross every chunk boundary
	for i := 0; i < len(crlfInput); i++ {
		if _, err := w.Write([]byte{crlfInput[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	if out.String() != dovecotStored || w.size != 44 || w.vsize != 49 {
		t.Fatalf("stored %q S=%d W=%d, want %q S=44 W=49", out.String(), w.size, w.vsize, dovecotStored)
	}
}

func crlfForm(stored []byte) []byte {
	var out []byte
	prevCR := false
	for _, c := range stored {
		if c == '\n' && !prevCR {
			out = append(out, '\r')
		}
		out = append(out, c)
		prevCR = c == '\r'
	}
	return out
}

func FuzzCRLFReader(f *testing.F) {
	f.Add([]byte(dovecotStored), int64(3), 10)
	f.Add(bytes.Repeat([]byte("ab\n\r\n"), 30000), int64(65530), 20)
	f.Add([]byte("a\nb\r\nc\n\n\r"), int64(1), 1) // reads that end between an added CR and its LF
	f.Add(bytes.Repeat([]byte("\n"), 70000), int64(65537), 2)
	f.Fuzz(func(t *testing.T, data []byte, off int64, n int) {
		if len(data) == 0 || n <= 0 || n > 1<<20 {
			return
		}
		p := filepath.Join(t.TempDir(), "m")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fl, err := vfs.OS{}.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		want := crlfForm(data)
		var size, vsize int64
		if n%2 == 0 { // the sizes known from the index
			size, vsize = int64(len(data)), int64(len(want))
		}
		r, err := newCRLFReader(fl, size, vsize)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Size() != int64(len(want)) {
			t.Fatalf("size %d, want %d", r.Size(), len(want))
		}
		if n2, _ := crlfSize(bytes.NewReader(data)); n2 != int64(len(want)) {
			t.Fatalf("crlfSize %d, want %d", n2, len(want))
		}
		if off < 0 {
			off = -off
		}
		off %= int64(len(want)) + 1
		buf := make([]byte, n)
		got, err := r.ReadAt(buf, off)
		end := min(off+int64(n), int64(len(want)))
		if !bytes.Equal(buf[:got], want[off:end]) {
			t.Fatalf("ReadAt(%d, %d) = %q, want %q", off, n, buf[:got], want[off:end])
		}
		if got < n && err != io.EOF {
			t.Fatalf("short read without EOF: %v", err)
		}
		// then read it all in pieces of n, as a FETCH streams it
		var all []byte
		for o := int64(0); o < int64(len(want)); o += int64(n) {
			k, _ := r.ReadAt(buf, o)
			all = append(all, buf[:k]...)
		}
		if !bytes.Equal(all, want) {
			t.Fatalf("sequential reads of %d differ", n)
		}
	})
}
