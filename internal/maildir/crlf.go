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

// lfWriter converts CRLF to LF while writing and counts both sizes.
type lfWriter struct {
	w         io.Writer
	pendingCR bool
	size      int64 // bytes written (stored form)
	vsize     int64 // bytes in CRLF form
	lastCR    bool  // last byte written was CR
	buf       []byte
}

func (l *lfWriter) Write(p []byte) (int, error) {
	l.buf = l.buf[:0]
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
	if _, err := l.w.Write(l.buf); err != nil {
		return 0, err
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

// flush writes a CR held back at the end of input.
func (l *lfWriter) flush() error {
	if !l.pendingCR {
		return nil
	}
	l.pendingCR = false
	l.buf = append(l.buf[:0], '\r')
	l.size++
	l.vsize++
	l.lastCR = true
	_, err := l.w.Write(l.buf)
	return err
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

const crlfBlock = 64 * 1024

// crlfReader presents an LF-stored file in CRLF form with random access.
// It keeps, per 64 KiB block of the file, the number of CRs added before
// the block, so ReadAt converts at most one block more than it returns.
type crlfReader struct {
	f      vfs.File
	fsize  int64
	size   int64
	added  []int64 // added[k]: CRs inserted before file offset k*crlfBlock
	prevCR []bool  // prevCR[k]: byte before block k is CR
}

func newCRLFReader(f vfs.File) (*crlfReader, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := &crlfReader{f: f, fsize: fi.Size()}
	buf := make([]byte, crlfBlock)
	var added int64
	prevCR := false
	for off := int64(0); off < r.fsize; off += crlfBlock {
		r.added = append(r.added, added)
		r.prevCR = append(r.prevCR, prevCR)
		n, err := f.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			return nil, err
		}
		for _, c := range buf[:n] {
			if c == '\n' && !prevCR {
				added++
			}
			prevCR = c == '\r'
		}
	}
	r.size = r.fsize + added
	return r, nil
}

func (r *crlfReader) Size() int64  { return r.size }
func (r *crlfReader) Close() error { return r.f.Close() }

// ReadAt reads the CRLF form at offset off.
func (r *crlfReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	// Block whose CRLF start is <= off.
	k := sort.Search(len(r.added), func(i int) bool { return int64(i)*crlfBlock+r.added[i] > off }) - 1
	if k < 0 {
		k = 0
	}
	pos := int64(k)*crlfBlock + r.added[k] // CRLF offset of the block start
	prevCR := r.prevCR[k]
	buf := make([]byte, crlfBlock)
	n := 0
	for fo := int64(k) * crlfBlock; fo < r.fsize && n < len(p); fo += crlfBlock {
		m, err := r.f.ReadAt(buf, fo)
		if err != nil && err != io.EOF {
			return n, err
		}
		for _, c := range buf[:m] {
			if c == '\n' && !prevCR {
				if pos >= off && n < len(p) {
					p[n] = '\r'
					n++
				}
				pos++
			}
			if pos >= off && n < len(p) {
				p[n] = c
				n++
			}
			pos++
			prevCR = c == '\r'
			if n == len(p) {
				break
			}
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
