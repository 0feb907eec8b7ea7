package pop3server

import (
	"context"
)

// cmdStls is STLS (RFC 2595 section 4). Data pipelined after STLS is a
// protocol violation (a plaintext injection attempt): the connection ends.
func cmdStls(_ context.Context, c *conn, _ string) error {
	switch {
	case c.srv.opts.TLS == nil:
		c.errReply("TLS support isn't enabled.")
		return nil
	case c.ci.TLS:
		c.errReply("TLS is already active.")
		return nil
	}
	c.ok("Begin TLS negotiation now.")
	if err := c.bw.Flush(); err != nil {
		return err
	}
	if c.br.Buffered() > 0 {
		return &closeError{"STLS with pipelined data"}
	}
	if err := c.handshake(); err != nil {
		return &closeError{"TLS handshake failed: " + err.Error()}
	}
	c.lastUser = nil
	return nil
}
