package pop3server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"roost/internal/connset"
	"roost/internal/logging"
	"roost/internal/login"
	"roost/internal/storage"
)

type state int

const (
	stateAuthorization state = iota + 1
	stateTransaction
	stateDone // QUIT answered or the connection is ending
)

// conn is one client connection. Everything but mu's fields is owned by
// the connection's goroutine.
type conn struct {
	srv *Server
	raw net.Conn // as accepted
	nc  net.Conn // current (a *tls.Conn after STLS)
	br  *bufio.Reader
	bw  *bufio.Writer
	in  atomic.Int64 // bytes read since login
	out atomic.Int64 // bytes written since login
	log *logging.Logger

	ctx    context.Context
	cancel context.CancelFunc

	ci        login.ConnInfo
	state     state
	bad       int
	lastUser  *string // USER argument waiting for PASS
	triedUser string  // the user of the last login attempt, for logs
	challenge string  // APOP challenge of the greeting, "" without APOP
	attempts  int     // failed authentication attempts
	session   *login.Session
	user      storage.User
	box       *inbox
	unlock    func() // releases the pop3_lock_session lock
	stats     stats
	logout    string // reason logged at disconnect
	quit      bool   // QUIT committed (deleted messages counted)

	mu           sync.Mutex // guards following
	waiting      bool       // blocked reading the start of a command
	shuttingDown bool
}

// stats are the pop3_logout_format counters.
type stats struct {
	topCount, retrCount int
	topBytes, retrBytes int64
}

func (s *Server) newConn(nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.conns.Context())
	c := &conn{srv: s, raw: nc, ctx: ctx, cancel: cancel, state: stateAuthorization}
	c.ci = login.ConnInfo{Service: "pop3", Local: connset.AddrPort(nc.LocalAddr()), Remote: connset.AddrPort(nc.RemoteAddr()),
		SessionID: s.rand.SessionID()}
	c.log = s.log.With("pop3-login")
	c.setIO(nc)
	return c
}

func (c *conn) setIO(nc net.Conn) {
	c.nc = nc
	c.br = bufio.NewReaderSize(countReader{nc, &c.in}, 8192)
	c.bw = bufio.NewWriterSize(countWriter{nc, &c.out}, 8192)
}

// Serve runs the connection until QUIT, disconnect or server close.
func (c *conn) Serve() {
	defer c.cancel()
	defer c.raw.Close()
	defer func() {
		if v := recover(); v != nil {
			c.log.Errorf("Panic: %v\n%s", v, debug.Stack())
			c.logout = "Internal error"
		}
		// The line is logged once pending \Seen flags are written, so a
		// logged disconnect means the session's changes are on disk.
		line := c.disconnectLine()
		c.closeUser()
		c.log.Infof("%s", line)
	}()
	if c.srv.opts.ImplicitTLS {
		if err := c.handshake(); err != nil {
			c.logout = "TLS handshake failed: " + err.Error()
			return
		}
	}
	greeting := c.srv.opts.Greeting
	if c.srv.opts.APOP != nil {
		c.challenge = c.srv.apopChallenge(os.Getpid())
		greeting += " " + c.challenge
	}
	c.ok(greeting)
	if c.bw.Flush() != nil {
		return
	}
	for c.state != stateDone {
		if !c.next() {
			return
		}
	}
}

// handshake runs a TLS server handshake on the raw connection and
// switches I/O to it.
func (c *conn) handshake() error {
	tc, err := connset.Handshake(c.ctx, c.raw, c.srv.opts.TLS, c.srv.opts.LoginTimeout)
	if err != nil {
		return err
	}
	c.ci.TLS = true
	c.setIO(tc)
	return nil
}

// next reads and runs one command. It returns false when the connection
// must end.
func (c *conn) next() bool {
	line, err := c.readCommand()
	if err != nil {
		c.readFailed(err)
		return false
	}
	if err := c.run(line); err != nil {
		c.fatal(err)
		return false
	}
	return c.bw.Flush() == nil
}

// errLineTooLong is a command line over the state's limit.
var errLineTooLong = errors.New("input line too long")

// readCommand waits for the next line, honouring the inactivity timeout
// and shutdown.
func (c *conn) readCommand() (string, error) {
	timeout := c.srv.opts.Autologout
	if c.state == stateAuthorization {
		timeout = c.srv.opts.LoginTimeout
	}
	c.mu.Lock()
	if c.shuttingDown {
		c.mu.Unlock()
		return "", errShutdown
	}
	c.waiting = true
	c.raw.SetReadDeadline(time.Now().Add(timeout))
	c.mu.Unlock()
	_, err := c.br.Peek(1)
	c.mu.Lock()
	c.waiting = false
	down := c.shuttingDown
	c.raw.SetReadDeadline(time.Time{})
	c.mu.Unlock()
	if down {
		return "", errShutdown
	}
	if err != nil {
		return "", err
	}
	return c.readLine()
}

// readLine reads one line without its CRLF (or bare LF).
func (c *conn) readLine() (string, error) {
	limit := MaxLineLength
	if c.state == stateAuthorization {
		limit = MaxLoginLineLength
	}
	var buf []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		if len(buf)+len(frag) > limit {
			return "", errLineTooLong
		}
		buf = append(buf, frag...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	line := strings.TrimSuffix(string(buf), "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

var errShutdown = errors.New("server shutting down")

// readFailed records why reading a command ended the connection.
func (c *conn) readFailed(err error) {
	switch {
	case errors.Is(err, errShutdown):
		if c.state == stateTransaction {
			c.line("-ERR [SYS/TEMP] Server shutting down.")
		}
		c.bw.Flush()
		c.logout = "Server shutting down."
	case isTimeout(err):
		c.line("-ERR Disconnected for inactivity.")
		c.bw.Flush()
		c.logout = "Disconnected for inactivity"
		if c.state == stateAuthorization {
			c.logout = "Inactivity"
		}
	case errors.Is(err, errLineTooLong):
		c.line("-ERR Input line too long.")
		c.bw.Flush()
		c.logout = "Input line too long"
	default:
		c.connClosed(err)
	}
}

func (c *conn) connClosed(err error) {
	c.logout = "Connection closed"
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		c.logout = "Connection closed: " + err.Error()
	}
}

// fatal ends the connection after a handler's unrecoverable error.
func (c *conn) fatal(err error) {
	var ce *closeError
	switch {
	case errors.As(err, &ce):
		c.bw.Flush()
		c.logout = ce.reason
	case isTimeout(err):
		c.logout = "Disconnected for inactivity"
	default:
		c.connClosed(err)
	}
}

// closeError ends the connection after its reply was written; reason is
// logged.
type closeError struct{ reason string }

func (e *closeError) Error() string { return e.reason }

func isTimeout(err error) bool { return connset.IsTimeout(err) }

// Close closes the connection at once (Server.Close).
func (c *conn) Close() error { return c.raw.Close() }

// Shutdown asks the connection to end after its command in flight.
func (c *conn) Shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shuttingDown {
		return
	}
	c.shuttingDown = true
	if c.waiting {
		c.raw.SetReadDeadline(time.Now())
	}
}

// line writes one reply line.
func (c *conn) line(s string) {
	c.bw.WriteString(s)
	c.bw.WriteString("\r\n")
}

func (c *conn) ok(text string) {
	if text == "" {
		c.line("+OK")
		return
	}
	c.line("+OK " + text)
}

// errReply writes "-ERR text".
func (c *conn) errReply(text string) { c.line("-ERR " + text) }

// closeUser writes pending \Seen flags when the session ends without QUIT
// and releases the mailbox, the store and the session lock.
func (c *conn) closeUser() {
	if c.box != nil {
		if !c.quit {
			if err := c.box.commitSeen(context.Background()); err != nil {
				c.log.Errorf("update \\Seen flags: %v", err)
			}
		}
		c.box.close()
		c.box = nil
	}
	if c.user != nil {
		c.user.Close()
		c.user = nil
	}
	if c.unlock != nil {
		c.unlock()
		c.unlock = nil
	}
}

// disconnectLine is Dovecot's disconnect line.
func (c *conn) disconnectLine() string {
	reason := c.logout
	if reason == "" {
		reason = "Connection closed"
	}
	if c.session == nil {
		return fmt.Sprintf("Disconnected: %s (%s): user=<%s>, rip=%s, lip=%s%s, session=<%s>",
			reason, c.attemptsText(), c.loginUser(), c.ci.Remote.Addr(), c.ci.Local.Addr(), c.tlsLogTag(), c.ci.SessionID)
	}
	if c.box == nil {
		// Logged in, but INBOX was never opened (session lock, storage
		// error): Dovecot logs zero statistics.
		c.box = &inbox{}
		defer func() { c.box = nil }()
	}
	return fmt.Sprintf("Disconnected: %s %s", reason, c.logoutStats())
}

func (c *conn) attemptsText() string {
	if c.attempts == 0 {
		return "no auth attempts"
	}
	return fmt.Sprintf("auth failed, %d attempts", c.attempts)
}

func (c *conn) loginUser() string {
	if c.triedUser == "" && c.lastUser != nil {
		return *c.lastUser
	}
	return c.triedUser
}

// tlsLogTag is the ", TLS" / ", secured" part of login lines.
func (c *conn) tlsLogTag() string {
	if c.ci.TLS {
		return ", TLS"
	}
	if a := c.ci.Remote.Addr(); a.IsLoopback() || a == c.ci.Local.Addr() {
		return ", secured"
	}
	return ""
}

type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (r countReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n.Add(int64(n))
	return n, err
}

type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (w countWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.n.Add(int64(n))
	return n, err
}
