package pop3server

import (
	"bufio"
	"io"
)

// stuffer copies a message to the client as Dovecot's fetch_callback
// does: CR added before bare LFs, a dot doubled at line start, and with a
// line limit (TOP) the copy stops after that many lines counted from the
// empty line ending the header.
type stuffer struct {
	w      *bufio.Writer
	lines  int64 // lines left once in the body; < 0: no limit
	last   byte  // last byte written
	begun  bool  // a byte was written
	inBody bool
	done   bool
}

// copy reads r to the end or until the line limit.
func (s *stuffer) copy(r io.Reader) error {
	buf := make([]byte, 32*1024)
	for !s.done {
		n, err := r.Read(buf)
		if n > 0 {
			if werr := s.write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// write processes p, writing runs of unchanged bytes at once.
func (s *stuffer) write(p []byte) error {
	start := 0
	prev := s.last
	defer func() { s.begun = s.begun || len(p) > 0 }()
	for i := 0; i < len(p); i++ {
		ch := p[i]
		lineStart := prev == '\n' || i == 0 && !s.begun
		if (ch == '\r' || ch == '\n') && !s.inBody && lineStart {
			s.inBody = true
		}
		var add byte
		switch {
		case ch == '\n' && prev != '\r':
			add = '\r'
		case ch == '.' && lineStart: // Dovecot misses a dot as the very first byte
			add = '.'
		}
		if add != 0 {
			s.w.Write(p[start:i])
			s.w.WriteByte(add)
			start = i
		}
		prev = ch
		if ch == '\n' && s.inBody && s.lines > 0 {
			s.lines--
			if s.lines == 0 {
				s.done = true
				_, err := s.w.Write(p[start : i+1])
				s.last = ch
				return err
			}
		}
	}
	s.last = prev
	_, err := s.w.Write(p[start:])
	return err
}

// finish ends the message with CRLF when it did not end with one.
func (s *stuffer) finish() {
	if !s.begun || s.last != '\n' {
		s.w.WriteString("\r\n")
	}
}
