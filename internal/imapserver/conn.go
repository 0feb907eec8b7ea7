package imapserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"roost/internal/connset"
	"roost/internal/imapwire"
	"roost/internal/logging"
	"roost/internal/storage"
)

// conn is one client connection. Everything but mu's fields is owned by
// the connection's goroutine.
type conn struct {
	srv *Server
	raw net.Conn // as accepted
	nc  net.Conn // the current connection (a *tls.Conn after TLS starts)
	cnt byteCounter
	br  *bufio.Reader
	bw  *bufio.Writer
	dec *imapwire.Decoder
	enc *imapwire.Encoder
	log *logging.Logger

	ctx    context.Context // ends when the connection ends
	cancel context.CancelFunc

	ci      ConnInfo
	state   state
	session *Session
	user    storage.User
	sel     *selected    // non-nil in stateSelected
	notify  *notifyState // NOTIFY SET in effect (feature_notify.go), or nil
	enabled map[string]bool
	bad     int // consecutive invalid commands (a good one resets it)
	cmds    map[string]*commandSpec
	logout  string // reason logged at disconnect
	// logoutDetail replaces the pre-login disconnect line's "(auth
	// failed, ...)" detail when set.
	logoutDetail string
	userIP       *userIP // counted for mail_max_userip_connections
	// For the log lines (sessionlog.go).
	started  time.Time
	attempts authAttempts
	stats    sessionStats
	lastCmd  string // name of the last command finished
	lastDone time.Time
	// capsSeen: the client asked for CAPABILITY before login on a
	// connection that did not (yet) STARTTLS; it may ignore the
	// CAPABILITY response code, so login sends the list untagged
	// (Dovecot's client_ignores_capability_resp_code).
	capsSeen    bool
	didStartTLS bool
	compressed  bool // COMPRESS=DEFLATE is on (RFC 4978)
	// after runs once the tagged response has been flushed (STARTTLS
	// handshake); an error ends the connection.
	after func() error

	mu           sync.Mutex // guards following
	waiting      bool       // blocked reading the start of a command
	shuttingDown bool
	shutdownCh   chan struct{} // closed by shutdown
}

func (s *Server) newConn(nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.conns.Context())
	c := &conn{srv: s, ctx: ctx, cancel: cancel, state: stateNotAuth,
		enabled: map[string]bool{}, cmds: newCommandTable(), shutdownCh: make(chan struct{})}
	c.raw = nc
	c.started = s.opts.Now()
	c.ci = ConnInfo{Service: "imap", Local: connset.AddrPort(nc.LocalAddr()), Remote: connset.AddrPort(nc.RemoteAddr()),
		SessionID: s.rand.SessionID()}
	c.log = s.log.With("imap-login")
	c.setIO(nc)
	return c
}

// setIO (re)creates the buffered reader, writer, decoder and encoder on nc.
func (c *conn) setIO(nc net.Conn) {
	c.nc = nc
	c.br = bufio.NewReaderSize(countReader{nc, &c.cnt.in}, 8192)
	c.bw = bufio.NewWriterSize(countWriter{nc, &c.cnt.out, c.armWriteDeadline}, 8192)
	c.enc = imapwire.NewEncoder(c.bw)
	c.dec = imapwire.NewDecoder(c.br, imapwire.DecoderOptions{
		MaxLineLength:  c.srv.opts.MaxLineLength,
		MaxLiteralSize: int64(c.srv.opts.MaxLineLength),
		LiteralMinus:   c.srv.opts.LiteralMinus,
		Continue:       c.continueLiteral,
	})
	c.applyUTF8()
}

// armWriteDeadline bounds the next write by Options.WriteTimeout.
func (c *conn) armWriteDeadline() {
	c.raw.SetWriteDeadline(time.Now().Add(c.srv.opts.WriteTimeout))
}

// continueLiteral answers a synchronising literal (Dovecot: "+ OK").
func (c *conn) continueLiteral() error {
	c.enc.Plus().Text("OK").CRLF()
	return c.enc.Flush()
}

// Serve runs the connection until logout, disconnect or server close.
func (c *conn) Serve() {
	defer c.cancel()
	defer c.raw.Close()
	defer c.releaseUserIP()
	defer c.closeUser()
	defer func() {
		if v := recover(); v != nil {
			c.log.Errorf("Panic: %v\n%s", v, debug.Stack())
			c.logout = "Internal error"
		}
		c.logDisconnect()
	}()
	if c.srv.opts.ImplicitTLS {
		if err := c.handshake(); err != nil {
			c.log.Infof("Disconnected (TLS handshake failed): %v", err)
			return
		}
	}
	c.untaggedStatus(typeOK, "CAPABILITY "+c.capabilities(), c.srv.opts.Greeting)
	if c.enc.Flush() != nil {
		return
	}
	for c.state != stateLogout {
		if !c.next() {
			return
		}
	}
}

// handshake runs a TLS server handshake on the raw connection and
// switches I/O to it.
func (c *conn) handshake() error {
	var leaf []byte
	tc, err := connset.Handshake(c.ctx, c.raw, recordingTLSConfig(c.srv.opts.TLS, &leaf), c.srv.opts.LoginTimeout)
	if err != nil {
		return err
	}
	cs := tc.ConnectionState()
	c.ci.TLS = true
	c.ci.LocalName = cs.ServerName
	c.ci.TLSState, c.ci.ServerCert = &cs, leaf
	c.setIO(tc)
	return nil
}

// next waits for and runs one command. It returns false when the
// connection must end.
func (c *conn) next() bool {
	if !c.waitCommand() {
		return false
	}
	c.dec.Begin()
	err := c.runCommand()
	if err != nil {
		c.fatal(err)
		return false
	}
	if c.bad >= c.srv.opts.MaxBadCommands {
		c.bye("Too many invalid IMAP commands.", "Too many invalid IMAP commands.")
		return false
	}
	if c.enc.Flush() != nil {
		return false
	}
	if f := c.after; f != nil {
		c.after = nil
		if err := f(); err != nil {
			c.fatal(err)
			return false
		}
	}
	return true
}

// waitCommand blocks until a command starts, the inactivity timeout hits
// or the server shuts down.
func (c *conn) waitCommand() bool {
	timeout := c.srv.opts.Autologout
	if c.state == stateNotAuth {
		timeout = c.srv.opts.LoginTimeout
	}
	c.mu.Lock()
	if c.shuttingDown {
		c.mu.Unlock()
		c.bye("Server shutting down.", "Server shutting down")
		return false
	}
	c.waiting = true
	deadline := time.Now().Add(timeout)
	c.raw.SetReadDeadline(deadline)
	c.mu.Unlock()
	err := c.peekCommand(deadline) // writes NOTIFY events meanwhile
	c.mu.Lock()
	c.waiting = false
	down := c.shuttingDown
	c.raw.SetReadDeadline(time.Time{})
	c.mu.Unlock()
	switch {
	case err == nil:
		return true
	case down:
		c.bye("Server shutting down.", "Server shutting down")
	case isTimeout(err):
		c.bye("Disconnected for inactivity.", fmt.Sprintf("Inactivity - no input for %d secs", int(timeout.Seconds())))
	default:
		c.logout = c.closedReason(err)
	}
	return false
}

func isTimeout(err error) bool { return connset.IsTimeout(err) }

// bye sends "* BYE text" and records why the session ended.
func (c *conn) bye(text, reason string) {
	c.untaggedStatus(typeBYE, "", text)
	c.enc.Flush()
	c.logout = reason
}

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
	close(c.shutdownCh)
	if c.waiting {
		c.raw.SetReadDeadline(time.Now())
	}
}

// errShutdown and errTooManyBad end a connection whose "* BYE" was
// already sent.
var (
	errShutdown   = errors.New("server shutting down")
	errTooManyBad = errors.New("too many invalid commands")
	errByeSent    = errors.New("connection ended with BYE")
)

// fatal ends the connection after an unrecoverable error: I/O failure,
// a line too long, or a broken literal.
func (c *conn) fatal(err error) {
	switch {
	case errors.Is(err, errShutdown), errors.Is(err, errTooManyBad), errors.Is(err, errByeSent):
	case errors.Is(err, errPipelinedTLS):
		c.logout = "STARTTLS with pipelined data"
	case errors.Is(err, imapwire.ErrLiteralTooLarge):
		c.bye("Literal size too large", "Literal size too large")
	case isTimeout(err):
		c.bye("Disconnected for inactivity.", "Inactivity")
	default:
		c.logout = c.closedReason(err)
	}
}

// runCommand reads the tag and name, runs the handler and writes the
// tagged response. Only a fatal error is returned.
func (c *conn) runCommand() error {
	cmd := &command{dec: c.dec}
	if c.dec.CRLF() {
		return nil // Dovecot ignores empty lines
	}
	if !c.dec.ExpectTag(&cmd.tag) {
		return c.commandError(cmd, c.dec.Err(), "Error in IMAP tag: ")
	}
	var name string
	if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&name) {
		return c.commandError(cmd, c.dec.Err(), "Error in IMAP command: ")
	}
	cmd.name = strings.ToUpper(name)
	if cmd.name == "UID" {
		if !c.dec.ExpectSP() || !c.dec.ExpectAtom(&name) {
			return c.commandError(cmd, c.dec.Err(), "Error in IMAP command: ")
		}
		cmd.name, cmd.uid = strings.ToUpper(name), true
	}
	spec := c.cmds[cmd.name]
	if spec == nil || (cmd.uid && spec.flags&flagUID == 0) {
		return c.finish(cmd, c.unknownCommand(cmd))
	}
	cmd.spec, cmd.okText = spec, spec.okText
	if err := c.checkState(cmd); err != nil {
		return c.finish(cmd, err)
	}
	if c.sel != nil && spec.flags&(flagUsesSeqs|flagUID) != 0 {
		c.preSync(c.ctx) // message commands see the latest flags
	}
	return c.finish(cmd, spec.handler(c.ctx, c, cmd))
}

// unknownCommand is the BAD for a command that does not exist (or not in
// this state): imap-login and imap word it differently.
func (c *conn) unknownCommand(cmd *command) error {
	if c.state == stateNotAuth {
		return bad("", "Error in IMAP command received by server.")
	}
	return bad("", "Error in IMAP command "+cmd.fullName()+": Unknown command.")
}

// checkState refuses a command that is not valid in the current state.
func (c *conn) checkState(cmd *command) error {
	if cmd.spec.states&c.state != 0 {
		return nil
	}
	if cmd.spec.states == stateSelected && c.state == stateAuth {
		// Not an invalid command for the BAD limit (Dovecot).
		return &status{typ: typeBAD, text: "No mailbox selected."}
	}
	return c.unknownCommand(cmd)
}

// commandError answers a decoding failure before the command was known.
func (c *conn) commandError(cmd *command, err error, prefix string) error {
	var se *imapwire.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	msg := se.Msg
	switch {
	case c.state == stateNotAuth:
		return c.finish(cmd, bad("", "Error in IMAP command received by server."))
	case cmd.tag == "":
		msg = "Invalid tag."
	case se != imapwire.ErrLineTooLong:
		msg = "Invalid command name."
	}
	return c.finish(cmd, bad("", prefix+msg))
}

// finish skips what is left of the command, announces changes where
// allowed and writes the tagged response for err.
func (c *conn) finish(cmd *command, err error) error {
	if err != nil && isConnError(err) {
		return err
	}
	if !c.dec.AtLineStart() {
		if derr := c.dec.DiscardLine(); derr != nil {
			return derr
		}
		if err == nil {
			c.log.Errorf("BUG: %s handler did not read its CRLF", cmd.fullName())
		}
	}
	if cmd.tag == "" {
		cmd.tag = "*"
	}
	if werr := c.enc.Err(); werr != nil {
		return werr
	}
	st, ferr := c.resultStatus(cmd, err)
	if ferr != nil {
		return ferr
	}
	if opts, ok := c.closingSync(cmd); ok && st.typ != typeBAD {
		if serr := c.syncWith(c.ctx, opts); serr != nil {
			c.syncFailed(serr)
		}
		c.sendHighestModSeq(st, opts.NoExpunges)
	}
	if !st.badCount {
		c.bad = 0 // as Dovecot: only consecutive invalid commands count
	} else {
		c.bad++
		if c.state == stateNotAuth && c.bad >= c.srv.opts.MaxLoginBadCommands {
			c.bye("Too many invalid IMAP commands.", "Too many invalid commands")
			return errTooManyBad
		}
	}
	writeStatus(c.enc, cmd.tag, st)
	c.lastCmd, c.lastDone = cmd.fullName(), c.srv.opts.Now()
	return c.enc.Err()
}

// resultStatus turns a handler's result into the tagged status, or a
// fatal error.
func (c *conn) resultStatus(cmd *command, err error) (*status, error) {
	var st *status
	var se *imapwire.SyntaxError
	var me *imapwire.MailboxNameError
	switch {
	case err == nil:
		return &status{typ: typeOK, code: cmd.okCode, text: cmd.okText}, nil
	case errors.As(err, &st):
		return st, nil
	case errors.As(err, &se) && c.state == stateNotAuth:
		// imap-login does not say what was wrong.
		return &status{typ: typeBAD, text: "Error in IMAP command received by server.", badCount: true}, nil
	case errors.As(err, &se):
		return &status{typ: typeBAD, text: "Error in IMAP command " + cmd.fullName() + ": " + se.Msg, badCount: true}, nil
	case errors.As(err, &me):
		return &status{typ: typeNO, text: c.badNameText()}, nil
	case isConnError(err):
		return nil, err
	default:
		return c.storageError(cmd.fullName(), err).(*status), nil
	}
}

// isConnError reports whether err means the connection is unusable.
func isConnError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, imapwire.ErrLiteralTooLarge) || errors.As(err, &ne) || errors.Is(err, errShutdown) ||
		errors.Is(err, errPipelinedTLS) || errors.Is(err, context.Canceled) || errors.Is(err, errByeSent)
}

// closingSync reports whether changes may be announced at the end of cmd,
// and how: after the sequence-number forms of FETCH, STORE, SEARCH and
// COPY everything but EXPUNGE (RFC 3501 section 7.4.1), as Dovecot does.
func (c *conn) closingSync(cmd *command) (storage.SyncOptions, bool) {
	if c.sel == nil || cmd.spec == nil || cmd.spec.flags&flagNoSync != 0 {
		return storage.SyncOptions{}, false
	}
	return storage.SyncOptions{NoExpunges: !cmd.uid && cmd.spec.flags&flagUsesSeqs != 0}, true
}

// closeUser releases the selected mailbox and the user's store.
func (c *conn) closeUser() {
	c.notifyOff()
	if c.sel != nil {
		c.sel.mb.Close()
		c.sel = nil
	}
	if c.user != nil {
		c.user.Close()
		c.user = nil
	}
}
