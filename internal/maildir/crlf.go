package maildir

import (
	"io"
	"sort"

	"roost/internal/vfs"
)

// Messages are stored with LF line ends (Dovecot's mail_save_crlf=no):
// CR LF is saved as LF, a bare CR is kept. They are read in CRLF form:
// every LF not preceded by CR gets a CR, exactly as Dovecot's
// i_stream_create_crlf presents them. W= in the file name is the size of
// that CRLF form.

// lfWriter converts CRLF to LF while writing and counts both sizes. It
// buffers up to lfFlushAt bytes, so a message is usually one write;
// flush writes the rest.
type lfWriter struct {
	w         io.Writer
	pendingCR bool
	size      int64 // bytes written (stored form)
	vsize     int64 // bytes in CRLF form
	lastCR    bool  // last byte written was CR
	buf       []byte
	drains    int // writes to w
}

const lfFlushAt = 64 * 1024

func (l *lfWriter) Write(p []byte) (int, error) {
	if l.buf == nil {
		l.buf = make([]byte, 0, min(len(p)+512, 2*lfFlushAt))
	}
	for _, c := range p {
		if l.pendingCR {
			l.pendingCR = false
			if c != '\n' {
				l.emit('\r')
			}
		}
		if c == '\r' {
			l.pendingCR = true
			continue
		}
		l.emit(c)
	}
	if len(l.buf) >= lfFlushAt {
		if err := l.drain(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (l *lfWriter) emit(c byte) {
	l.buf = append(l.buf, c)
	l.size++
	l.vsize++
	if c == '\n' && !l.lastCR {
		l.vsize++
	}
	l.lastCR = c == '\r'
}

func (l *lfWriter) drain() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	l.drains++
	return err
}

// flush writes a CR held back at the end of input and everything
// buffered.
func (l *lfWriter) flush() error {
	if l.pendingCR {
		l.pendingCR = false
		l.buf = append(l.buf, '\r')
		l.size++
		l.vsize++
		l.lastCR = true
	}
	return l.drain()
}

// crlfSize returns the size of r's content in CRLF form.
func crlfSize(r io.Reader) (int64, error) {
	buf := make([]byte, 64*1024)
	var n int64
	prevCR := false
	for {
		k, err := r.Read(buf)
		for _, c := range buf[:k] {
			n++
			if c == '\n' && !prevCR {
				n++
			}
			prevCR = c == '\r'
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}

const (
	crlfBlock   = 64 * 1024 // distance between position checkpoints
	crlfBufSize = 16 * 1024 // read size; divides crlfBlock
)

// crlfReader presents an LF-stored file in CRLF form with random access,
// converting while it streams: no copy of the file is made. It remembers
// where the last read stopped (sequential reads continue from there) and,
// per 64 KiB block of the file it has passed, how many CRs were added
// before the block, so a read elsewhere converts at most one block more
// than it returns. A header-only read touches only the file's first
// bytes. The size comes from the index (W=) when the file's size is the
// one recorded; otherwise one pass over the file counts it.
type crlfReader struct {
	f      vfs.File
	fsize  int64
	size   int64
	added  []int64 // added[k]: CRs inserted before file offset k*crlfBlock
	prevCR []bool  // prevCR[k]: byte before block k is CR
	cur    crlfPos // where the last read stopped
	buf    []byte
}

// crlfPos is a position in both forms: file offset, CRLF offset, and
// whether the CRLF byte before it is a CR.
type crlfPos struct {
	file, out int64
	prevCR    bool
}

// newCRLFReader returns a reader of f; size and vsize are the stored and
// CRLF sizes when known (vsize <= 0: unknown).
func newCRLFReader(f vfs.File, size, vsize int64) (*crlfReader, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := &crlfReader{f: f, fsize: fi.Size(), added: []int64{0}, prevCR: []bool{false}}
	r.buf = make([]byte, min(crlfBufSize, max(r.fsize, 1)))
	if vsize > 0 && size == r.fsize {
		r.size = vsize
		return r, nil
	}
	// Unknown: count, recording every checkpoint on the way.
	if _, err := r.advance(nil, 1<<62, &r.cur); err != nil && err != io.EOF {
		return nil, err
	}
	r.size = r.cur.out
	r.cur = crlfPos{}
	return r, nil
}

func (r *crlfReader) Size() int64  { return r.size }
func (r *crlfReader) Close() error { return r.f.Close() }

// ReadAt reads the CRLF form at offset off.
func (r *crlfReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	pos := r.cur
	if off < pos.out {
		k := sort.Search(len(r.added), func(i int) bool { return int64(i)*crlfBlock+r.added[i] > off }) - 1
		k = max(k, 0)
		pos = crlfPos{file: int64(k) * crlfBlock, out: int64(k)*crlfBlock + r.added[k], prevCR: r.prevCR[k]}
	}
	if pos.out < off {
		if _, err := r.advance(nil, off, &pos); err != nil {
			return 0, err
		}
	}
	n, err := r.advance(p, off+int64(len(p)), &pos)
	r.cur = pos
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

// advance converts from pos until the CRLF offset end or the end of the
// file, copying the output into p (when not nil) and moving pos. It
// records block checkpoints as it passes them.
func (r *crlfReader) advance(p []byte, end int64, pos *crlfPos) (int, error) {
	n := 0
	for pos.out < end && pos.file < r.fsize {
		if pos.file%crlfBlock == 0 {
			r.checkpoint(pos)
		}
		want := min(int64(len(r.buf)), crlfBlock-pos.file%crlfBlock, r.fsize-pos.file)
		m, err := r.f.ReadAt(r.buf[:want], pos.file)
		if m == 0 {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the file shrank
			}
			return n, err
		}
		chunk := r.buf[:m]
		for i := 0; i < len(chunk) && pos.out < end; i++ {
			c := chunk[i]
			if c == '\n' && !pos.prevCR {
				if p != nil {
					p[n] = '\r'
					n++
				}
				pos.out++
				pos.prevCR = true
				if pos.out == end {
					break // stop between the added CR and its LF
				}
			}
			if p != nil {
				p[n] = c
				n++
			}
			pos.out++
			pos.file++
			pos.prevCR = c == '\r'
		}
	}
	if pos.file%crlfBlock == 0 && pos.file < r.fsize {
		r.checkpoint(pos)
	}
	return n, nil
}

// checkpoint records the position of a block start reached for the first
// time.
func (r *crlfReader) checkpoint(pos *crlfPos) {
	if k := pos.file / crlfBlock; k == int64(len(r.added)) {
		r.added = append(r.added, pos.out-pos.file)
		r.prevCR = append(r.prevCR, pos.prevCR)
	}
}
