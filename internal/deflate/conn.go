package deflate

import (
	"net"
)

// Conn is a net.Conn whose Read decompresses and whose Write compresses
// (RFC 4978 section 3). Write buffers: call Flush at the end of each
// response, where the uncompressed connection was flushed. Deadlines,
// addresses and Close are the underlying connection's.
type Conn struct {
	net.Conn
	r *Reader
	w *Writer
}

// NewConn starts compression on c at a compress/flate level. pending is
// client data already read from c after the COMPRESS command (normally
// none: the client starts compressing only after the tagged OK).
func NewConn(c net.Conn, level int, pending []byte) (*Conn, error) {
	w, err := NewWriter(c, level)
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c, r: NewReader(c, pending), w: w}, nil
}

// Read returns decompressed client data; it never waits for more input
// while it has decoded data (see Reader).
func (c *Conn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Write compresses p into the buffer.
func (c *Conn) Write(p []byte) (int, error) { return c.w.Write(p) }

// Flush sends everything written so far, decodable by the client at once.
func (c *Conn) Flush() error { return c.w.Flush() }

// Close flushes what was written (best effort) and closes the connection.
func (c *Conn) Close() error {
	c.w.Flush()
	return c.Conn.Close()
}
