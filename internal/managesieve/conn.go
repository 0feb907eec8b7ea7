package managesieve

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"roost/internal/connset"
	"roost/internal/logging"
	"roost/internal/login"
)

// conn is one client connection, owned by its goroutine except closing.
type conn struct {
	srv     *Server
	raw     net.Conn // as accepted
	nc      net.Conn // current (a *tls.Conn after STARTTLS)
	p       *parser
	bw      *bufio.Writer
	log     *logging.Logger
	ci      login.ConnInfo
	session *login.Session
	store   Store
	bad     int
	in, out countingInt
	closing atomic.Bool
	done    bool   // LOGOUT answered or fatal: end the loop
	reason  string // logged at disconnect
}

type countingInt struct{ atomic.Int64 }

// countConn counts the bytes of a session.
type countConn struct {
	net.Conn
	in, out *countingInt
}

func (c countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

func (s *Server) newConn(nc net.Conn) *conn {
	c := &conn{srv: s, raw: nc, log: s.log.With("managesieve-login")}
	c.ci = login.ConnInfo{Service: "sieve", Local: connset.AddrPort(nc.LocalAddr()), Remote: connset.AddrPort(nc.RemoteAddr()),
		SessionID: sessionID()}
	c.setIO(nc)
	return c
}

func sessionID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawStdEncoding.EncodeToString(b[:])
}

func (c *conn) setIO(nc net.Conn) {
	c.nc = nc
	cc := countConn{Conn: nc, in: &c.in, out: &c.out}
	c.p = &parser{br: bufio.NewReaderSize(cc, 4096), maxLine: c.srv.opts.MaxLineLength}
	c.bw = bufio.NewWriterSize(cc, 4096)
}

// Close closes the connection at once (Server.Close).
func (c *conn) Close() error { return c.raw.Close() }

// Shutdown makes the session end after its command in flight.
func (c *conn) Shutdown() {
	c.closing.Store(true)
	c.raw.SetReadDeadline(time.Now())
}

// Serve runs the session until LOGOUT, disconnect or server close.
func (c *conn) Serve() {
	defer c.raw.Close()
	defer func() {
		if r := recover(); r != nil {
			c.log.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	if c.srv.opts.ImplicitTLS {
		tc := tlsServer(c.raw, c.srv.opts.TLS)
		if err := tc.HandshakeContext(c.srv.conns.Context()); err != nil {
			c.log.Infof("Disconnected: TLS handshake failed: %v", err)
			return
		}
		c.ci.TLS = true
		st := tc.ConnectionState()
		c.ci.TLSState = &st
		c.setIO(tc)
	}
	c.writeCapabilities()
	c.ok("", c.srv.opts.Greeting)
	c.flush()
	for !c.done {
		if err := c.step(); err != nil {
			c.ended(err)
			break
		}
	}
	c.logDisconnect()
}

// step reads and runs one command.
func (c *conn) step() error {
	timeout := c.srv.opts.LoginTimeout
	if c.session != nil {
		timeout = c.srv.opts.Autologout
	}
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	if c.closing.Load() {
		return errShutdown
	}
	cmd, err := c.p.readCommand()
	var se *errSyntax
	if errors.As(err, &se) {
		if cmd != nil && cmd.name != "" && se.msg != "Error in MANAGESIEVE command received by server." {
			return c.badCommand(fmt.Sprintf("Error in MANAGESIEVE command %s: %s", cmd.name, se.msg))
		}
		return c.badCommand(se.msg)
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(c.srv.conns.Context())
	defer cancel()
	h, ok := c.handler(cmd.name)
	if !ok && c.session == nil {
		// managesieve-login knows only its own commands.
		return c.badCommand("Error in MANAGESIEVE command received by server.")
	}
	if !ok {
		return c.badCommand(fmt.Sprintf("Error in MANAGESIEVE command %s: Unknown command.", cmd.name))
	}
	if err := h(ctx, c, cmd); err != nil {
		return err
	}
	return c.flush()
}

var errShutdown = errors.New("server shutting down")

// badCommand answers a malformed or unknown command; too many end the
// session.
func (c *conn) badCommand(text string) error {
	c.bad++
	limit := maxBadCommands
	if c.session == nil {
		limit = maxLoginBadCommands
	}
	if c.bad >= limit {
		c.bye("Too many invalid MANAGESIEVE commands.")
		c.flush()
		c.reason = "Too many invalid commands."
		c.done = true
		return nil
	}
	c.no("", text)
	return c.flush()
}

func (c *conn) ended(err error) {
	switch {
	case errors.Is(err, errShutdown) || c.closing.Load():
		c.bye("Server shutting down.")
		c.flush()
		c.reason = "Server shutting down."
	case errors.Is(err, errFatal):
		c.bye("Too long command line.")
		c.flush()
		c.reason = "Too long command line."
	default:
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.bye("Disconnected for inactivity.")
			c.flush()
			c.reason = "Disconnected for inactivity."
		} else if c.reason == "" {
			c.reason = "Connection closed"
		}
	}
}

func (c *conn) logDisconnect() {
	if c.session == nil {
		c.log.Infof("Disconnected: %s (no auth attempts): rip=%s, lip=%s, session=<%s>", orDefault(c.reason, "Connection closed"),
			c.ci.Remote.Addr(), c.ci.Local.Addr(), c.ci.SessionID)
		return
	}
	stats := strings.NewReplacer("%i", strconv.FormatInt(c.in.Load(), 10), "%o", strconv.FormatInt(c.out.Load(), 10)).Replace(c.srv.opts.LogoutFormat)
	c.log.Infof("Disconnected: %s %s", orDefault(c.reason, "Connection closed"), stats)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Output. Every client-supplied or variable text goes through quote.

func (c *conn) flush() error { return c.bw.Flush() }

func (c *conn) line(s string) { c.bw.WriteString(s + "\r\n") }

// quote renders s as a quoted string, or a literal when it cannot be
// quoted (RFC 5804 section 4).
func quote(s string) string {
	if len(s) > 1024 || strings.ContainsAny(s, "\r\n\x00") {
		return "{" + strconv.Itoa(len(s)) + "}\r\n" + s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func (c *conn) status(word, code, text string) {
	s := word
	if code != "" {
		s += " (" + code + ")"
	}
	if text != "" {
		s += " " + quote(text)
	}
	c.line(s)
}

func (c *conn) ok(code, text string) { c.status("OK", code, text) }
func (c *conn) no(code, text string) { c.status("NO", code, text) }
func (c *conn) bye(text string)      { c.status("BYE", "", text) }
func (c *conn) internalError(err error) {
	c.log.Errorf("%v", err)
	c.no("", internalErrorText)
}

// writeCapabilities lists the capabilities for the current state.
func (c *conn) writeCapabilities() {
	o := &c.srv.opts
	c.line(quote("IMPLEMENTATION") + " " + quote(o.Implementation))
	c.line(quote("SIEVE") + " " + quote(c.srv.sieveCapability()))
	if c.session != nil {
		c.line(quote("MAXREDIRECTS") + " " + quote(strconv.Itoa(o.MaxRedirects)))
	}
	c.line(quote("NOTIFY") + " " + quote(c.srv.notifyCapability()))
	if c.session == nil {
		c.line(quote("SASL") + " " + quote(strings.Join(o.Auth.Mechanisms(c.ci), " ")))
		if o.TLS != nil && !c.ci.TLS {
			c.line(quote("STARTTLS"))
		}
	} else {
		c.line(quote("UNAUTHENTICATE"))
	}
	c.line(quote("VERSION") + " " + quote("1.0"))
}
