package deflate

import (
	"bufio"
	"compress/flate"
	"fmt"
	"io"
)

// Writer compresses to a raw DEFLATE stream. Write buffers; Flush ends
// the batch with a sync flush so that the peer can decode everything
// written so far.
type Writer struct {
	bw *bufio.Writer
	fw *flate.Writer
}

// NewWriter returns a Writer compressing to w at a compress/flate level
// (flate.DefaultCompression is zlib's level 6, which Dovecot uses).
func NewWriter(w io.Writer, level int) (*Writer, error) {
	bw := bufio.NewWriterSize(w, 16<<10)
	fw, err := flate.NewWriter(bw, level)
	if err != nil {
		return nil, fmt.Errorf("deflate writer: %w", err)
	}
	return &Writer{bw: bw, fw: fw}, nil
}

// Write compresses p; the output may stay buffered until Flush.
func (w *Writer) Write(p []byte) (int, error) {
	return w.fw.Write(p)
}

// Flush emits all data written so far, ending with an empty stored block
// (Z_SYNC_FLUSH), and writes it to the underlying writer.
func (w *Writer) Flush() error {
	if err := w.fw.Flush(); err != nil {
		return err
	}
	return w.bw.Flush()
}
