package lmtp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"roost/internal/connset"
	"roost/internal/delivery"
	"roost/internal/logging"
	"roost/internal/smtp"
)

// conn is one LMTP connection.
type conn struct {
	s   *Server
	nc  net.Conn
	r   *smtp.Reader
	w   *smtp.Writer
	log *logging.Logger
	ctx context.Context

	helo      string // LHLO argument; "" before LHLO
	sessionID string // set at the first MAIL
	txCount   int    // transactions started
	tls       bool
	remoteIP  string
	tx        *transaction // nil outside MAIL ... end of data
	bad       int          // consecutive failed commands
	quit      bool

	mu       sync.Mutex // guards following
	idle     bool       // blocked reading a command
	stopping bool
}

// transaction is the state from MAIL to the end of the message.
type transaction struct {
	sender  string
	rcpts   []*rcpt
	nRcpt   int // RCPT commands given, accepted or not (for the :Rn ids)
	id      string
	spool   *delivery.Spool
	bdat    bool  // BDAT seen: DATA is no longer allowed
	failed  bool  // a BDAT chunk failed: only RSET helps
	tooBig  bool  // the message went over MaxMessageSize
	written int64 // bytes received so far
	werr    error // spool write failure
}

type rcpt struct {
	r       delivery.Recipient
	id      string // session id, ":Rn" for later recipients
	release func() // gives back the lmtp_user_concurrency_limit slot; nil without
}

// done ends the recipient's claim on its user's concurrency slot.
func (r *rcpt) done() {
	if r.release != nil {
		r.release()
		r.release = nil
	}
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc}
	c.setIO(nc)
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		c.remoteIP = ta.IP.String()
	}
	c.log = s.opts.Logger.With("lmtp")
	return c
}

func (c *conn) setIO(rw io.ReadWriter) {
	c.r = smtp.NewReader(bufio.NewReader(rw), c.s.opts.MaxLineLength)
	c.w = smtp.NewWriter(bufio.NewWriter(rw))
}

// Serve runs the connection until QUIT, disconnect or server close.
func (c *conn) Serve() {
	defer c.nc.Close()
	defer func() {
		if v := recover(); v != nil {
			c.log.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	var cancel context.CancelFunc
	c.ctx, cancel = context.WithCancel(c.s.conns.Context())
	defer cancel()
	defer c.reset()
	c.log.Infof("Connect from %s", remoteName(c.nc))
	c.reply(smtp.R(220, "", c.s.opts.Hostname+" roost ready."))
	for !c.quit {
		if err := c.w.Flush(); err != nil {
			return
		}
		line, err := c.readCommand()
		if err != nil {
			c.readFailed(err)
			return
		}
		c.dispatch(line)
		if c.bad >= maxBadCommands {
			c.reply(smtp.R(421, "4.7.0", "Too many invalid commands."))
			break
		}
	}
	c.w.Flush()
}

// readCommand reads the next command line, flushing buffered replies
// first when the client has sent nothing more (pipelining).
func (c *conn) readCommand() (string, error) {
	if c.r.Buffered() == 0 {
		if err := c.w.Flush(); err != nil {
			return "", err
		}
	}
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		return "", errShutdown
	}
	c.idle = true
	c.mu.Unlock()
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
	line, err := c.r.ReadLine()
	c.mu.Lock()
	c.idle = false
	stopping := c.stopping
	c.mu.Unlock()
	if err != nil && stopping {
		return "", errShutdown
	}
	return line, err
}

var errShutdown = errors.New("server shutting down")

func (c *conn) readFailed(err error) {
	switch {
	case errors.Is(err, errShutdown):
		c.reply(smtp.R(421, "4.3.2", c.s.opts.Hostname+" Shutting down"))
		c.w.Flush()
	case errors.Is(err, smtp.ErrLineTooLong):
		c.reply(smtp.R(500, "5.5.2", "Line too long"))
		c.w.Flush()
	case connset.IsTimeout(err):
		c.reply(smtp.R(421, "4.4.2", c.s.opts.Hostname+" Disconnected for inactivity"))
		c.w.Flush()
		c.log.Infof("Disconnect from %s: Connection timed out", remoteName(c.nc))
	case errors.Is(err, io.EOF):
		c.log.Infof("Disconnect from %s: Connection closed", remoteName(c.nc))
	default:
		c.log.Infof("Disconnect from %s: %v", remoteName(c.nc), err)
	}
}

// Close closes the connection at once (Server.Close).
func (c *conn) Close() error { return c.nc.Close() }

// Shutdown asks the connection to end at its next command boundary.
func (c *conn) Shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopping = true
	if c.idle {
		c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *conn) reply(r smtp.Reply) { c.w.Reply(r) }

// fail answers an error reply and counts it toward maxBadCommands.
func (c *conn) fail(r smtp.Reply) {
	c.bad++
	c.reply(r)
}

func (c *conn) ok(r smtp.Reply) {
	c.bad = 0
	c.reply(r)
}

// reset ends the transaction.
func (c *conn) reset() {
	if c.tx != nil {
		for _, r := range c.tx.rcpts {
			r.done()
		}
		if c.tx.spool != nil {
			c.tx.spool.Close()
		}
	}
	c.tx = nil
}

func remoteName(nc net.Conn) string {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	return "local"
}

// command is one entry of the command table.
type command struct {
	handle func(c *conn, args string)
	// needHelo: refused before LHLO.
	needHelo bool
}

func commands() map[string]command {
	return map[string]command{
		"LHLO":     {handle: (*conn).cmdLHLO},
		"MAIL":     {handle: (*conn).cmdMAIL, needHelo: true},
		"RCPT":     {handle: (*conn).cmdRCPT, needHelo: true},
		"DATA":     {handle: (*conn).cmdDATA, needHelo: true},
		"BDAT":     {handle: (*conn).cmdBDAT, needHelo: true},
		"RSET":     {handle: (*conn).cmdRSET},
		"NOOP":     {handle: (*conn).cmdNOOP},
		"QUIT":     {handle: (*conn).cmdQUIT},
		"VRFY":     {handle: (*conn).cmdVRFY},
		"STARTTLS": {handle: (*conn).cmdSTARTTLS, needHelo: true},
	}
}

func (c *conn) dispatch(line string) {
	cmd := smtp.ParseCommand(line)
	h, ok := commands()[cmd.Verb]
	if !ok {
		c.fail(smtp.R(500, "5.5.1", "Unknown command"))
		return
	}
	if h.needHelo && c.helo == "" {
		c.fail(smtp.R(503, "5.5.1", "Invalid command: Send LHLO first"))
		return
	}
	h.handle(c, cmd.Args)
}

func (c *conn) startTLS() error {
	tc := tls.Server(c.nc, c.s.opts.TLS)
	c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IdleTimeout))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		return err
	}
	c.nc = tc
	c.tls = true
	c.setIO(tc)
	return nil
}
