package deflate

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

func benchStream(b *testing.B) ([]byte, int) {
	plain := testPlain(rand.New(rand.NewPCG(7, 8)), 4<<20)
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write(plain)
	w.Close()
	return buf.Bytes(), len(plain)
}

func BenchmarkReader(b *testing.B) {
	stream, n := benchStream(b)
	b.SetBytes(int64(n))
	for b.Loop() {
		io.Copy(io.Discard, NewReader(bytes.NewReader(stream), nil))
	}
}

// BenchmarkStdlibReader is compress/flate's reader on the same stream,
// for comparison.
func BenchmarkStdlibReader(b *testing.B) {
	stream, n := benchStream(b)
	b.SetBytes(int64(n))
	for b.Loop() {
		io.Copy(io.Discard, flate.NewReader(bytes.NewReader(stream)))
	}
}

// BenchmarkNewConnMemory reports what one compressed connection allocates.
func BenchmarkNewConnMemory(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		NewReader(bytes.NewReader(nil), nil)
		NewWriter(io.Discard, flate.DefaultCompression)
	}
}
