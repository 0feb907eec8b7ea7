package delivery

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Message is a received message, readable any number of times (once per
// recipient).
type Message interface {
	io.ReaderAt
	Size() int64
}

// DefaultSpoolMemory is how much of a message a Spool keeps in memory
// before it moves the message to a temporary file.
const DefaultSpoolMemory = 128 << 10

// Spool collects a message while it is received: in memory while small,
// then in an unlinked-on-Close temporary file (mail_temp_dir).
type Spool struct {
	dir    string
	memMax int
	buf    bytes.Buffer
	f      *os.File
	size   int64
}

// NewSpool returns a Spool spilling to dir ("" is os.TempDir) past memMax
// bytes (<= 0: DefaultSpoolMemory).
func NewSpool(dir string, memMax int) *Spool {
	if memMax <= 0 {
		memMax = DefaultSpoolMemory
	}
	return &Spool{dir: dir, memMax: memMax}
}

// Write appends to the message.
func (s *Spool) Write(p []byte) (int, error) {
	if s.f == nil && s.buf.Len()+len(p) > s.memMax {
		if err := s.spill(); err != nil {
			return 0, err
		}
	}
	var n int
	var err error
	if s.f != nil {
		n, err = s.f.Write(p)
	} else {
		n, err = s.buf.Write(p)
	}
	s.size += int64(n)
	return n, err
}

func (s *Spool) spill() error {
	f, err := os.CreateTemp(s.dir, "roost-delivery-*")
	if err != nil {
		return fmt.Errorf("create spool file: %w", err)
	}
	os.Remove(f.Name()) // unlinked: nothing is left behind by a crash
	if _, err := f.Write(s.buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("write spool file: %w", err)
	}
	s.f = f
	s.buf = bytes.Buffer{}
	return nil
}

// Size is the number of bytes written.
func (s *Spool) Size() int64 { return s.size }

// ReadAt reads the message.
func (s *Spool) ReadAt(p []byte, off int64) (int, error) {
	if s.f != nil {
		return s.f.ReadAt(p, off)
	}
	return bytes.NewReader(s.buf.Bytes()).ReadAt(p, off)
}

// Reset empties the spool for the next transaction.
func (s *Spool) Reset() {
	s.Close()
	s.buf.Reset()
	s.size = 0
}

// Close releases the temporary file.
func (s *Spool) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
