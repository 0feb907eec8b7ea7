package imapserver

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// cmdLogin is LOGIN (RFC 3501 section 6.2.3).
func cmdLogin(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var user, pass string
	if !dec.ExpectSP() || !dec.ExpectAString(&user) || !dec.ExpectSP() || !dec.ExpectAString(&pass) || !cmd.end() {
		return dec.Err()
	}
	if !c.srv.opts.Auth.PlaintextAllowed(c.ci) {
		c.untaggedStatus(typeBAD, "ALERT", "Plaintext authentication not allowed without SSL/TLS, "+
			"but your client did it anyway. If anyone was listening, the password was exposed.")
		return no("PRIVACYREQUIRED", "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
	}
	s, err := c.srv.opts.Auth.Login(ctx, c.ci, user, pass)
	if err != nil {
		c.failedAuth(user, "PLAIN")
		if ref := nologinReferral(err, user, "PLAIN"); ref != nil {
			return ref
		}
		return c.authError(err)
	}
	if s.Method == "" {
		s.Method = "PLAIN"
	}
	return c.loggedIn(ctx, cmd, s)
}

// authError maps an Authenticator error to the tagged response.
func (c *conn) authError(err error) error {
	switch {
	case errors.Is(err, ErrAuthFailed):
		return no("AUTHENTICATIONFAILED", "Authentication failed.")
	case errors.Is(err, ErrPrivacyRequired):
		return no("PRIVACYREQUIRED", "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
	case errors.Is(err, ErrUnknownMech):
		return no("ALERT", "Unsupported authentication mechanism.")
	case errors.Is(err, ErrAuthAborted):
		return &status{typ: typeBAD, text: "Authentication aborted by client."}
	case errors.Is(err, ErrAuthUnavailable):
		return no("UNAVAILABLE", "Temporary authentication failure.")
	case isConnError(err):
		return err
	default:
		c.log.Errorf("auth: %v", err)
		return no("UNAVAILABLE", "Temporary authentication failure.")
	}
}

// loggedIn opens the user's mail store and enters the authenticated
// state: "OK [CAPABILITY ...] Logged in".
func (c *conn) loggedIn(ctx context.Context, cmd *command, s *Session) error {
	if err := c.claimUserIP(s); err != nil {
		return err
	}
	u, err := c.srv.opts.OpenUser(ctx, s)
	if err != nil {
		c.releaseUserIP()
		c.log.Errorf("user %s: open mail storage: %v", s.User, err)
		return no("UNAVAILABLE", internalErrorText+" ["+c.srv.opts.Now().Format("2006-01-02 15:04:05")+"]")
	}
	c.log.Infof("Login: user=<%s>, method=%s, rip=%s, lip=%s, mpid=%d%s, session=<%s>",
		s.User, s.Method, addrString(c.ci.Remote), addrString(c.ci.Local), os.Getpid(), c.tlsLogTag(), c.ci.SessionID)
	c.session, c.user, c.state = s, u, stateAuth
	c.log = c.srv.log.With(fmt.Sprintf("imap(%s)<%d><%s>", s.User, os.Getpid(), c.ci.SessionID))
	c.cnt.in.Store(0)
	c.cnt.out.Store(0)
	ref, refText := loginReferral(s)
	switch {
	case c.capsSeen || ref != "":
		c.untagged().Atom("CAPABILITY").SP().Text(c.capabilities()).CRLF()
	default:
		cmd.okCode = "CAPABILITY " + c.capabilities()
	}
	if ref != "" {
		cmd.okCode, cmd.okText = ref, refText // RFC 2221 section 4.1
	}
	return nil
}

// tlsLogTag is ", TLS" or ", secured" (loopback, or the same IP at both
// ends) as in Dovecot's login lines.
func (c *conn) tlsLogTag() string {
	r := c.ci.Remote.Addr().Unmap()
	switch {
	case c.ci.TLS:
		return ", TLS"
	case r.IsValid() && (r.IsLoopback() || r == c.ci.Local.Addr().Unmap()):
		return ", secured"
	}
	return ""
}
