package managesieve

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"

	"roost/internal/login"
)

// cmdAuthenticate is AUTHENTICATE (RFC 5804 section 2.1) with an optional
// initial response; each challenge and response is a base64 string.
func cmdAuthenticate(ctx context.Context, c *conn, cmd *command) error {
	mech, ok := cmd.str(0)
	if !ok || len(cmd.args) > 2 {
		if len(cmd.args) == 0 {
			return c.badCommand("Error in MANAGESIEVE command AUTHENTICATE: Missing arguments.")
		}
		return c.badCommand("Error in MANAGESIEVE command AUTHENTICATE: Invalid arguments.")
	}
	var resp []byte
	if ir, has := cmd.str(1); has {
		b, err := base64.StdEncoding.DecodeString(ir)
		if err != nil {
			c.no("", "Invalid base64 data in initial response.")
			return nil
		}
		resp = b
	} else if len(cmd.args) == 2 {
		return c.badCommand("Error in MANAGESIEVE command AUTHENTICATE: Invalid arguments.")
	}
	ex, err := c.srv.opts.Auth.Begin(ctx, c.ci, mech)
	if err != nil {
		c.authFailed(err)
		return nil
	}
	return c.saslLoop(ctx, ex, resp)
}

func (c *conn) saslLoop(ctx context.Context, ex *login.Exchange, resp []byte) error {
	for {
		ch, s, err := ex.Next(ctx, resp)
		if err != nil {
			c.authFailed(err)
			return nil
		}
		if s != nil {
			return c.loggedIn(ctx, s)
		}
		c.line(quote(base64.StdEncoding.EncodeToString(ch)))
		if err := c.flush(); err != nil {
			return err
		}
		str, err := c.p.readString()
		if err != nil {
			if _, ok := err.(*errSyntax); ok {
				ex.Abort()
				c.no("", "Invalid AUTHENTICATE client response.")
				return nil
			}
			return err
		}
		if str == "*" {
			c.authFailed(ex.Abort())
			return nil
		}
		if resp, err = base64.StdEncoding.DecodeString(str); err != nil {
			ex.Abort()
			c.no("", "Invalid base64 data in continued response.")
			return nil
		}
	}
}

// authFailed answers a failed login as managesieve-login does.
func (c *conn) authFailed(err error) {
	switch login.KindOf(err) {
	case login.Failed:
		c.no("", "Authentication failed.")
	case login.Nologin:
		text := "Authentication failed."
		if le, ok := err.(*login.Error); ok && le.Reason != "" {
			text = le.Reason
		}
		c.no("", text)
	case login.PlaintextDisabled:
		c.no("", "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
	case login.UnknownMechanism:
		c.no("", "Unsupported authentication mechanism.")
	case login.Aborted:
		c.no("", "Authentication aborted by client.")
	default:
		if le, ok := err.(*login.Error); !ok || le.Kind != login.TempFail {
			c.log.Errorf("auth: %v", err)
		}
		c.no("TRYLATER", "Temporary authentication failure.")
	}
}

// loggedIn opens the user's scripts and enters the authenticated state.
func (c *conn) loggedIn(ctx context.Context, s *login.Session) error {
	secured := ""
	if c.ci.TLS {
		secured = ", TLS"
	}
	c.log.Infof("Login: user=<%s>, method=%s, rip=%s, lip=%s, mpid=%d%s, session=<%s>",
		s.User, s.Mechanism, c.ci.Remote.Addr(), c.ci.Local.Addr(), os.Getpid(), secured, c.ci.SessionID)
	st, err := c.srv.opts.OpenStore(ctx, s)
	if err != nil {
		c.log.Errorf("open sieve storage for %s: %v", s.User, err)
		c.no("", internalErrorText)
		return nil
	}
	c.session, c.store, c.bad = s, st, 0
	c.log = c.srv.log.With(fmt.Sprintf("managesieve(%s)<%d><%s>", s.User, os.Getpid(), c.ci.SessionID))
	c.ok("", "Logged in.")
	return nil
}
