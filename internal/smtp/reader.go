package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Limits of the wire format.
const (
	// MaxLineLength is the longest command line accepted (RFC 5321
	// section 4.5.3.1.4 says 512 octets; Dovecot allows extensions to
	// stretch it, and so do we).
	MaxLineLength = 4096
)

// ErrLineTooLong is returned for a command line over the limit. The rest
// of the line has been read and discarded.
var ErrLineTooLong = errors.New("smtp: line too long")

// ErrTooBig is returned by a data reader when the message exceeds the
// size limit. The rest of the message has been read and discarded, so the
// session can go on.
var ErrTooBig = errors.New("smtp: message too big")

// WriteError is returned by ReadData and ReadChunk when the destination
// failed; the message was still read to its end.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "write message: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// Reader reads command lines and message data.
type Reader struct {
	r       *bufio.Reader
	maxLine int
}

// NewReader returns a Reader; maxLine <= 0 means MaxLineLength.
func NewReader(r *bufio.Reader, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = MaxLineLength
	}
	return &Reader{r: r, maxLine: maxLine}
}

// Buffered reports how many bytes the client has already sent: while
// there are some, replies may wait (pipelining).
func (r *Reader) Buffered() int { return r.r.Buffered() }

// ReadLine reads one command line without its line end. A line over the
// limit is consumed and reported as ErrLineTooLong.
func (r *Reader) ReadLine() (string, error) {
	var line []byte
	tooLong := false
	for {
		frag, err := r.r.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(frag) > r.maxLine+2 {
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		break
	}
	if tooLong {
		return "", ErrLineTooLong
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return string(line), nil
}

// ReadData copies a DATA message to w, removing the dot-stuffing, until
// the line holding a single ".". Line ends are kept as sent. At most max
// bytes are written (max <= 0: no limit); past that the rest is read and
// dropped and ErrTooBig returned. An error from w is returned after the
// message has been read to its end, so the session stays in step.
func (r *Reader) ReadData(w io.Writer, max int64) (int64, error) {
	var n int64
	var werr error
	bol := true
	for {
		frag, err := r.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
		if bol && len(frag) > 0 && frag[0] == '.' {
			if isDotLine(frag) {
				break
			}
			frag = frag[1:]
		}
		bol = err == nil // ended with LF
		if werr == nil {
			if max > 0 && n+int64(len(frag)) > max {
				werr = ErrTooBig
				continue
			}
			m, e := w.Write(frag)
			n += int64(m)
			if e != nil {
				werr = &WriteError{Err: e}
			}
		}
	}
	return n, werr
}

func isDotLine(frag []byte) bool {
	s := string(frag)
	return s == ".\r\n" || s == ".\n"
}

// ReadChunk copies exactly size bytes of a BDAT chunk to w. Past max total
// bytes (written counts what earlier chunks wrote) the data is dropped and
// ErrTooBig returned; an error from w is returned after the chunk has been
// read, so the session stays in step.
func (r *Reader) ReadChunk(w io.Writer, size, written, max int64) (int64, error) {
	sw := &stickyWriter{w: w}
	if max > 0 && written+size > max {
		sw.err = ErrTooBig
	}
	if _, err := io.CopyN(sw, r.r, size); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return sw.n, err
	}
	if sw.err != nil && sw.err != ErrTooBig {
		return sw.n, &WriteError{Err: sw.err}
	}
	return sw.n, sw.err
}

// stickyWriter writes to w until the first error, then drops the rest
// while reporting success, so a reader can be drained to a known point.
type stickyWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return len(p), nil
	}
	n, err := s.w.Write(p)
	s.n += int64(n)
	s.err = err
	return len(p), nil
}
