package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// Limits of the generator's own parsers.
const (
	maxLineLength  = 16 << 20  // longest response line kept in memory (SORT of 100,000 messages is ~600 KB)
	maxLiteralSize = 256 << 20 // largest literal skipped
	ioBufferSize   = 16 << 10
)

// StatusError is a tagged NO or BAD, or an unexpected BYE.
type StatusError struct{ Line string }

func (e *StatusError) Error() string { return "server said " + strconv.Quote(e.Line) }

// Target is where and how a workload connects.
type Target struct {
	Addr string // host:port
	TLS  bool   // implicit TLS (imaps, pop3s)
}

// dial connects to t; the deadline covers the TLS handshake.
func dial(ctx context.Context, t Target) (net.Conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second}
	c, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", t.Addr, err)
	}
	if !t.TLS {
		return c, nil
	}
	// The servers under test use a throwaway self-signed certificate.
	tc := tls.Client(c, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("tls handshake with %s: %w", t.Addr, err)
	}
	return tc, nil
}

// imapConn is a minimal IMAP client: it sends tagged commands and reads
// until the tagged status, skipping literals and tracking EXISTS.
type imapConn struct {
	c      net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	tag    int
	tagBuf []byte
	exists int
	long   []byte // assembles over-long lines
	status []byte // the last tagged status, after the tag
	// untagged, when set, sees every untagged line (without literals).
	untagged func(line []byte)
}

func dialIMAP(ctx context.Context, t Target) (*imapConn, error) {
	c, err := dial(ctx, t)
	if err != nil {
		return nil, err
	}
	ic := &imapConn{c: c, r: bufio.NewReaderSize(c, ioBufferSize), w: bufio.NewWriterSize(c, ioBufferSize)}
	if err := ic.greeting(); err != nil {
		c.Close()
		return nil, err
	}
	return ic, nil
}

// greeting reads the server greeting. Dovecot may first say "* OK
// Waiting for authentication process to respond.." while auth starts.
func (ic *imapConn) greeting() error {
	for {
		line, err := ic.readLine()
		if err != nil {
			return fmt.Errorf("read greeting: %w", err)
		}
		if bytes.HasPrefix(line, []byte("* OK Waiting for authentication")) {
			continue
		}
		if bytes.HasPrefix(line, []byte("* OK")) || bytes.HasPrefix(line, []byte("* PREAUTH")) {
			return nil
		}
		return &StatusError{Line: string(line)}
	}
}

func (ic *imapConn) Close() error { return ic.c.Close() }

// readLine returns one CRLF line without the CRLF. The slice is valid
// until the next read.
func (ic *imapConn) readLine() ([]byte, error) {
	return readLine(ic.r, &ic.long)
}

// readLine reads a line from r; lines longer than r's buffer are
// assembled in *long, up to maxLineLength.
func readLine(r *bufio.Reader, long *[]byte) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		*long = append((*long)[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(*long) <= maxLineLength {
			line, err = r.ReadSlice('\n')
			*long = append(*long, line...)
		}
		if len(*long) > maxLineLength {
			return nil, fmt.Errorf("response line longer than %d bytes", maxLineLength)
		}
		line = *long
	}
	if err != nil {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// nextTag starts a command: it writes the tag and a space.
func (ic *imapConn) nextTag() {
	ic.tag++
	ic.tagBuf = append(ic.tagBuf[:0], 'a')
	ic.tagBuf = strconv.AppendInt(ic.tagBuf, int64(ic.tag), 10)
	ic.w.Write(ic.tagBuf)
	ic.w.WriteByte(' ')
}

// cmd sends one command line and waits for its tagged status.
func (ic *imapConn) cmd(line string) error {
	ic.nextTag()
	ic.w.WriteString(line)
	ic.w.WriteString("\r\n")
	if err := ic.w.Flush(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return ic.wait()
}

// appendMsg appends msg to mailbox with a non-synchronizing literal
// (RFC 7888); both servers announce LITERAL+.
func (ic *imapConn) appendMsg(mailbox, flags string, msg []byte) error {
	ic.nextTag()
	fmt.Fprintf(ic.w, "APPEND %s (%s) {%d+}\r\n", mailbox, flags, len(msg))
	ic.w.Write(msg)
	ic.w.WriteString("\r\n")
	if err := ic.w.Flush(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return ic.wait()
}

// wait reads responses until the current tag's status line.
func (ic *imapConn) wait() error {
	for {
		line, err := ic.readResponse()
		if err != nil {
			return err
		}
		if len(line) > len(ic.tagBuf) && bytes.HasPrefix(line, ic.tagBuf) && line[len(ic.tagBuf)] == ' ' {
			st := line[len(ic.tagBuf)+1:]
			ic.status = append(ic.status[:0], st...)
			if bytes.HasPrefix(st, []byte("OK")) {
				return nil
			}
			return &StatusError{Line: string(line)}
		}
		if line[0] == '+' {
			return &StatusError{Line: "unexpected continuation: " + string(line)}
		}
	}
}

// readResponse reads one response line, skipping any literals inside it,
// and tracks untagged EXISTS/EXPUNGE. It returns the line's first part
// (before any literal), which is all the callers look at.
func (ic *imapConn) readResponse() ([]byte, error) {
	line, err := ic.readLine()
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if len(line) == 0 {
		return nil, errors.New("empty response line")
	}
	head := line
	for {
		n, ok := literalSize(line)
		if !ok {
			break
		}
		if &head[0] == &line[0] {
			head = append([]byte(nil), line...) // ReadSlice reuses its buffer
		}
		if _, err := ic.r.Discard(n); err != nil {
			return nil, fmt.Errorf("skip literal: %w", err)
		}
		if line, err = ic.readLine(); err != nil {
			return nil, fmt.Errorf("read after literal: %w", err)
		}
	}
	if head[0] == '*' {
		ic.noteUntagged(head)
	}
	return head, nil
}

func (ic *imapConn) noteUntagged(line []byte) {
	if bytes.HasPrefix(line, []byte("* BYE")) {
		// Reported by the caller through the following read error.
		return
	}
	if n, kw, ok := numbered(line); ok {
		switch kw {
		case "EXISTS":
			ic.exists = n
		case "EXPUNGE":
			ic.exists--
		}
	}
	if ic.untagged != nil {
		ic.untagged(line)
	}
}

// numbered parses "* N KEYWORD ...".
func numbered(line []byte) (int, string, bool) {
	if len(line) < 2 {
		return 0, "", false
	}
	rest := line[2:]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return 0, "", false
	}
	n, err := strconv.Atoi(string(rest[:sp]))
	if err != nil {
		return 0, "", false
	}
	kw := rest[sp+1:]
	if i := bytes.IndexByte(kw, ' '); i >= 0 {
		kw = kw[:i]
	}
	return n, string(kw), true
}

// literalSize reports whether line ends in a literal announcement {N}.
func literalSize(line []byte) (int, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return 0, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(line[open+1 : len(line)-1]))
	if err != nil || n < 0 || n > maxLiteralSize {
		return 0, false
	}
	return n, true
}

// login sends LOGIN with quoted arguments (test users need no escaping).
func (ic *imapConn) login(user, pass string) error {
	return ic.cmd("LOGIN " + quote(user) + " " + quote(pass))
}

func quote(s string) string { return strconv.Quote(s) }

// idle starts IDLE and waits for the continuation.
func (ic *imapConn) idle() error {
	ic.nextTag()
	ic.w.WriteString("IDLE\r\n")
	if err := ic.w.Flush(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	for {
		line, err := ic.readResponse()
		if err != nil {
			return err
		}
		if line[0] == '+' {
			return nil
		}
		if line[0] != '*' {
			return &StatusError{Line: string(line)}
		}
	}
}

// waitExists reads untagged responses in IDLE until EXISTS reaches n.
func (ic *imapConn) waitExists(n int) error {
	for ic.exists < n {
		line, err := ic.readResponse()
		if err != nil {
			return err
		}
		if line[0] != '*' {
			return &StatusError{Line: "in IDLE: " + string(line)}
		}
	}
	return nil
}

// done ends IDLE.
func (ic *imapConn) done() error {
	ic.w.WriteString("DONE\r\n")
	if err := ic.w.Flush(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return ic.wait()
}

// logout sends LOGOUT and closes the connection.
func (ic *imapConn) logout() error {
	err := ic.cmd("LOGOUT")
	ic.c.Close()
	return err
}

// appendUID returns the UID from the last status's [APPENDUID v uid]
// (RFC 4315), or 0.
func (ic *imapConn) appendUID() uint32 {
	const code = "[APPENDUID "
	i := bytes.Index(ic.status, []byte(code))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(ic.status[i+len(code):])
	if len(f) < 2 {
		return 0
	}
	n, err := strconv.ParseUint(string(bytes.TrimRight(f[1], "]")), 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}
