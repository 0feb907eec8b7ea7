package imapserver

import (
	"compress/flate"
	"context"
	"fmt"
	"strings"

	"roost/internal/deflate"
)

// cmdCompress is COMPRESS (RFC 4978). The tagged OK goes out uncompressed;
// then both directions switch to raw DEFLATE (package deflate), and every
// flush of the encoder ends a compressed batch with a sync flush. Client
// bytes already buffered after the command are the start of the
// compressed stream.
func cmdCompress(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var mech string
	if !dec.SP() || !dec.Atom(&mech) || !dec.CRLF() {
		return bad("", "Error in IMAP command COMPRESS: Invalid arguments.")
	}
	if c.compressed {
		return no("COMPRESSIONACTIVE", "COMPRESSION=DEFLATE already enabled.")
	}
	if !strings.EqualFold(mech, "DEFLATE") {
		return no("", "Unknown compression mechanism.")
	}
	c.compressed = true
	c.after = c.startCompression
	cmd.okText = "Begin compression."
	return nil
}

// startCompression wraps the connection in DEFLATE once the tagged OK is
// on the wire.
func (c *conn) startCompression() error {
	pending, err := c.br.Peek(c.br.Buffered())
	if err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	dc, err := deflate.NewConn(c.nc, flate.DefaultCompression, append([]byte(nil), pending...))
	if err != nil {
		return fmt.Errorf("compress: %w", err)
	}
	c.setIO(dc)
	c.enc.SetFlusher(dc)
	return nil
}
