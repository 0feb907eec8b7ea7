package imapserver

import (
	"context"
	"errors"
)

// errPipelinedTLS ends a connection that sent data after STARTTLS before
// the handshake: it could be a plaintext injection (CVE-2011-0411 class).
var errPipelinedTLS = errors.New("STARTTLS: data pipelined before the TLS handshake")

// cmdStartTLS is STARTTLS (RFC 3501 section 6.2.1). The handshake runs
// after the tagged OK is flushed; data the client pipelined after the
// command ends the connection.
func cmdStartTLS(ctx context.Context, c *conn, cmd *command) error {
	if !cmd.end() {
		return cmd.dec.Err()
	}
	if c.srv.opts.TLS == nil {
		return bad("", "TLS support isn't enabled.")
	}
	if c.ci.TLS {
		return bad("", "TLS is already active.")
	}
	c.after = func() error {
		if c.br.Buffered() > 0 {
			return errPipelinedTLS
		}
		c.didStartTLS = true
		return c.handshake()
	}
	return nil
}
