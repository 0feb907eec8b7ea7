package pop3server

import (
	"context"
	"encoding/base64"
	"strings"

	"roost/internal/login"
)

// cmdAuth is AUTH (RFC 5034): with no argument it lists the mechanisms
// (the old discovery form Outlook uses); otherwise it runs a SASL
// exchange, with an optional initial response ("=" for an empty one).
func cmdAuth(ctx context.Context, c *conn, args string) error {
	if args == "" {
		c.ok("")
		for _, m := range c.srv.opts.Auth.Mechanisms(c.ci) {
			c.line(m)
		}
		c.line(".")
		return nil
	}
	mech, ir, hasIR := strings.Cut(args, " ")
	ex, err := c.srv.opts.Auth.Begin(ctx, c.ci, mech)
	if err != nil {
		c.authFailed("", err)
		return nil
	}
	var resp []byte
	if hasIR {
		if resp, err = decodeSASL(ir); err != nil {
			c.errReply("[AUTH] Invalid base64 data in initial response")
			return nil
		}
	}
	return c.saslLoop(ctx, ex, resp)
}

// decodeSASL decodes a client response; "=" is the empty response.
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// saslLoop runs the exchange until it ends.
func (c *conn) saslLoop(ctx context.Context, ex *login.Exchange, resp []byte) error {
	for {
		ch, s, err := ex.Next(ctx, resp)
		if err != nil {
			c.authFailed("", err)
			return nil
		}
		if s != nil {
			return c.loggedIn(ctx, s)
		}
		c.line("+ " + base64.StdEncoding.EncodeToString(ch))
		if err := c.bw.Flush(); err != nil {
			return err
		}
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if line == "*" {
			c.authFailed("", ex.Abort())
			return nil
		}
		if resp, err = decodeSASL(line); err != nil {
			ex.Abort()
			c.errReply("[AUTH] Invalid base64 data in AUTH response")
			return nil
		}
	}
}
