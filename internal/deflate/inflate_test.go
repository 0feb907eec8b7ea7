package deflate

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

var errBeyondFlush = errors.New("read past a flush boundary")

// segReader hands out compressed segments (each ending at a flush), at
// most chunk bytes per Read, and refuses to go past segment allowed-1:
// a decompressor that wants more input before it returns the plaintext of
// a flushed segment fails instead of blocking.
type segReader struct {
	segs    [][]byte
	next    int // segment being handed out
	off     int // bytes of segs[next] handed out
	allowed int // segments that may be read
	chunk   int
}

func (s *segReader) Read(p []byte) (int, error) {
	for s.next < len(s.segs) && s.off == len(s.segs[s.next]) {
		s.next++
		s.off = 0
	}
	if s.next >= len(s.segs) {
		return 0, io.EOF
	}
	if s.next >= s.allowed {
		return 0, errBeyondFlush
	}
	n := copy(p[:min(len(p), s.chunk)], s.segs[s.next][s.off:])
	s.off += n
	return n, nil
}

// checkSegments decodes segs and checks that the plaintext of each
// segment is returned in full from that segment's bytes alone.
func checkSegments(t *testing.T, name string, segs, plain [][]byte, chunk int) {
	t.Helper()
	sr := &segReader{segs: segs, chunk: chunk}
	r := NewReader(sr, nil)
	for i, want := range plain {
		sr.allowed = i + 1
		got := make([]byte, len(want))
		if _, err := io.ReadFull(r, got); err != nil {
			t.Fatalf("%s: segment %d of %d (%d bytes): %v", name, i, len(plain), len(want), err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: segment %d: plaintext differs", name, i)
		}
	}
}

func TestReaderPythonZlibFlushes(t *testing.T) {
	t.Parallel()
	plain, streams := readPythonStreams(t)
	if len(streams) == 0 {
		t.Fatal("no streams in testdata/python-zlib.txt.gz")
	}
	for _, s := range streams {
		for _, chunk := range []int{1, 7, 1 << 20} {
			checkSegments(t, fmt.Sprintf("%s chunk %d", s.name, chunk), s.segs, plain, chunk)
		}
	}
}

type pythonStream struct {
	name string
	segs [][]byte
}

func readPythonStreams(t testing.TB) (plain [][]byte, streams []pythonStream) {
	t.Helper()
	f, err := os.Open("testdata/python-zlib.txt.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	dec := func(s string) []byte {
		if s == "-" {
			return nil
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		switch kind {
		case "plain":
			plain = append(plain, dec(rest))
		case "stream":
			streams = append(streams, pythonStream{name: rest})
		case "seg":
			s := &streams[len(streams)-1]
			s.segs = append(s.segs, dec(rest))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return plain, streams
}

// testPlain returns n bytes that compress in every way: text with
// repeats near and far, and random runs.
func testPlain(r *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		switch r.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "a%03d UID FETCH %d:* (FLAGS)\r\n", r.IntN(1000), r.IntN(100000))
		case 1:
			for range r.IntN(200) {
				b.WriteByte(byte(r.UintN(256)))
			}
		case 2:
			if b.Len() > 0 {
				start := r.IntN(b.Len())
				end := min(b.Len(), start+r.IntN(300))
				b.Write(append([]byte(nil), b.Bytes()[start:end]...))
			}
		default:
			b.WriteString(strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(500)))
		}
	}
	return b.Bytes()[:n]
}

// flateSegments compresses plain cut into segments with compress/flate,
// flushing after each.
func flateSegments(t testing.TB, r *rand.Rand, plain []byte, level int) (segs, plains [][]byte) {
	var out bytes.Buffer
	w, err := flate.NewWriter(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	for len(plain) > 0 {
		n := min(len(plain), 1+r.IntN(5000))
		w.Write(plain[:n])
		w.Flush()
		plains = append(plains, plain[:n])
		segs = append(segs, bytes.Clone(out.Bytes()))
		out.Reset()
		plain = plain[n:]
	}
	return segs, plains
}

func TestReaderGoFlateFlushes(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
		plain := testPlain(r, 300000)
		segs, plains := flateSegments(t, r, plain, level)
		for _, chunk := range []int{1, 13, 1 << 20} {
			checkSegments(t, fmt.Sprintf("level %d chunk %d", level, chunk), segs, plains, chunk)
		}
	}
}

// TestReaderWholeStreams checks complete streams (final block included)
// against compress/flate's own reader, read in small pieces.
func TestReaderWholeStreams(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 40 {
		plain := testPlain(r, r.IntN(200000))
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, []int{-2, 0, 1, 5, 9}[i%5])
		w.Write(plain)
		w.Close()
		got, err := io.ReadAll(iotestHalf(NewReader(bytes.NewReader(buf.Bytes()), nil)))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("stream %d: %d of %d bytes, %v", i, len(got), len(plain), err)
		}
	}
}

// iotestHalf reads with buffers of 1 to 100 bytes.
func iotestHalf(r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) { return r.Read(p[:min(len(p), 1+len(p)%100)]) })
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestReaderErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, flate.DefaultCompression)
	w.Write([]byte("hello, hello, hello"))
	w.Flush()
	stream := buf.Bytes()
	// Cut inside the stream: the data decodable is returned, then
	// ErrUnexpectedEOF.
	got, err := io.ReadAll(NewReader(bytes.NewReader(stream[:len(stream)-2]), nil))
	if err != io.ErrUnexpectedEOF || string(got) != "hello, hello, hello" {
		t.Errorf("cut stream: %q, %v", got, err)
	}
	// Ending at a flush boundary is a clean EOF.
	if got, err := io.ReadAll(NewReader(bytes.NewReader(stream), nil)); err != nil || string(got) != "hello, hello, hello" {
		t.Errorf("whole stream: %q, %v", got, err)
	}
	// Pending bytes come first.
	if got, err := io.ReadAll(NewReader(bytes.NewReader(stream[5:]), stream[:5])); err != nil || string(got) != "hello, hello, hello" {
		t.Errorf("pending: %q, %v", got, err)
	}
	for _, bad := range [][]byte{{0x07}, {0x00, 0x01, 0x00, 0x00, 0x00}, {0xff, 0xff, 0xff, 0xff}} {
		if _, err := io.ReadAll(NewReader(bytes.NewReader(bad), nil)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("% x: %v, want ErrCorrupt", bad, err)
		}
	}
}

func FuzzReader(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, level := range []int{-2, 1, 9} {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		w.Write(testPlain(r, 2000))
		w.Flush()
		w.Write(testPlain(r, 300))
		w.Close()
		f.Add(buf.Bytes())
	}
	_, streams := readPythonStreams(f)
	for _, s := range streams[:4] {
		f.Add(bytes.Join(s.segs[:6], nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want, werr := io.ReadAll(flate.NewReader(bytes.NewReader(data)))
		got, gerr := io.ReadAll(iotestHalf(NewReader(readerFunc(func(p []byte) (int, error) {
			// One byte at a time: every unit is rolled back and retried.
			if len(data) == 0 {
				return 0, io.EOF
			}
			p[0], data = data[0], data[1:]
			return 1, nil
		}), nil)))
		if werr == nil && (gerr != nil || !bytes.Equal(got, want)) {
			t.Fatalf("compress/flate read %d bytes; Reader %d bytes, %v", len(want), len(got), gerr)
		}
		if werr != nil && gerr == nil && len(got) < len(want) {
			t.Fatalf("Reader read less (%d) than compress/flate (%d) before an error", len(got), len(want))
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("a001 NOOP\r\na002 LOGOUT\r\n"), uint64(1))
	f.Fuzz(func(t *testing.T, plain []byte, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 0))
		var segs, plains [][]byte
		var out bytes.Buffer
		w, err := NewWriter(&out, []int{-2, 0, 1, 6, 9}[seed%5])
		if err != nil {
			t.Fatal(err)
		}
		for rest := plain; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(64))
			w.Write(rest[:n])
			w.Flush()
			plains = append(plains, rest[:n])
			segs = append(segs, bytes.Clone(out.Bytes()))
			out.Reset()
			rest = rest[n:]
		}
		checkSegments(t, "round trip", segs, plains, 1+int(seed%17))
	})
}
