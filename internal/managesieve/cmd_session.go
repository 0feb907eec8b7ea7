package managesieve

import (
	"context"
	"crypto/tls"
	"net"
)

type handlerFunc func(ctx context.Context, c *conn, cmd *command) error

// handler returns the command's handler in the current state.
func (c *conn) handler(name string) (handlerFunc, bool) {
	common := map[string]handlerFunc{"CAPABILITY": cmdCapability, "NOOP": cmdNoop, "LOGOUT": cmdLogout}
	if h, ok := common[name]; ok {
		return h, true
	}
	if c.session == nil {
		h, ok := map[string]handlerFunc{"STARTTLS": cmdStartTLS, "AUTHENTICATE": cmdAuthenticate}[name]
		return h, ok
	}
	h, ok := map[string]handlerFunc{
		"HAVESPACE": cmdHaveSpace, "PUTSCRIPT": cmdPutScript, "CHECKSCRIPT": cmdCheckScript,
		"LISTSCRIPTS": cmdListScripts, "SETACTIVE": cmdSetActive, "GETSCRIPT": cmdGetScript,
		"DELETESCRIPT": cmdDeleteScript, "RENAMESCRIPT": cmdRenameScript, "UNAUTHENTICATE": cmdUnauthenticate,
	}[name]
	return h, ok
}

// cmdCapability is CAPABILITY (RFC 5804 section 2.4).
func cmdCapability(_ context.Context, c *conn, cmd *command) error {
	if t := cmd.checkArgs(0); t != "" {
		return c.badCommand(t)
	}
	c.writeCapabilities()
	c.ok("", "Capability completed.")
	return nil
}

// cmdNoop is NOOP (RFC 5804 section 2.13): an optional tag is echoed.
func cmdNoop(_ context.Context, c *conn, cmd *command) error {
	if len(cmd.args) > 1 {
		return c.badCommand(cmd.checkArgs(1))
	}
	if tag, ok := cmd.str(0); ok {
		c.ok("TAG "+quote(tag), "Done")
		return nil
	}
	if len(cmd.args) == 1 {
		return c.badCommand("Error in MANAGESIEVE command NOOP: Invalid arguments.")
	}
	c.ok("", "NOOP Completed")
	return nil
}

// cmdLogout is LOGOUT (RFC 5804 section 2.3).
func cmdLogout(_ context.Context, c *conn, cmd *command) error {
	c.ok("", "Logout completed.")
	c.done = true
	c.reason = "Logged out"
	return nil
}

// cmdStartTLS is STARTTLS (RFC 5804 section 2.2): after the handshake the
// capabilities are sent again.
func cmdStartTLS(ctx context.Context, c *conn, cmd *command) error {
	if t := cmd.checkArgs(0); t != "" {
		return c.badCommand(t)
	}
	if c.srv.opts.TLS == nil || c.ci.TLS {
		return c.badCommand("Error in MANAGESIEVE command STARTTLS: Unknown command.")
	}
	c.ok("", "Begin TLS negotiation now.")
	if err := c.flush(); err != nil {
		return err
	}
	tc := tlsServer(c.nc, c.srv.opts.TLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.reason = "TLS handshake failed"
		c.done = true
		return nil
	}
	c.ci.TLS = true
	st := tc.ConnectionState()
	c.ci.TLSState = &st
	c.setIO(tc)
	c.writeCapabilities()
	c.ok("", "TLS negotiation successful.")
	return nil
}

func tlsServer(nc net.Conn, cfg *tls.Config) *tls.Conn { return tls.Server(nc, cfg) }

// cmdUnauthenticate is UNAUTHENTICATE (RFC 5804 section 2.14).
func cmdUnauthenticate(_ context.Context, c *conn, cmd *command) error {
	if t := cmd.checkArgs(0); t != "" {
		return c.badCommand(t)
	}
	c.session, c.store, c.bad = nil, nil, 0
	c.log = c.srv.log.With("managesieve-login")
	c.ok("", "Unauthenticate completed.")
	return nil
}
