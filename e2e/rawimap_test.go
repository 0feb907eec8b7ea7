package e2e

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

const (
	stepTimeout    = 15 * time.Second
	maxLiteralSize = 16 << 20
)

// transcript records both directions of one or more IMAP connections, one line per CRLF-ended
// line: "C1: ..." for what client 1 sent, "S1: ..." for what it received. Lines holding control
// characters or invalid UTF-8 are written quoted: "S1~ "...".
type transcript struct {
	lines []string
}

func (tr *transcript) add(dir byte, id int, data string) {
	parts := strings.Split(data, "\r\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	for _, p := range parts {
		if printable(p) {
			tr.lines = append(tr.lines, fmt.Sprintf("%c%d: %s", dir, id, p))
		} else {
			tr.lines = append(tr.lines, fmt.Sprintf("%c%d~ %s", dir, id, strconv.Quote(p)))
		}
	}
}

func (tr *transcript) note(id int, format string, args ...any) {
	tr.lines = append(tr.lines, fmt.Sprintf("!%d: %s", id, fmt.Sprintf(format, args...)))
}

func (tr *transcript) String() string { return strings.Join(tr.lines, "\n") + "\n" }

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// rawConn is an IMAP client connection that speaks exactly the bytes it is given.
type rawConn struct {
	id      int
	c       net.Conn
	r       *bufio.Reader
	tr      *transcript
	pending string // tag of a command the server answered with a continuation request
	closed  bool
}

func dialRaw(addr string, id int, tr *transcript) (*rawConn, error) {
	c, err := net.DialTimeout("tcp", addr, stepTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	rc := &rawConn{id: id, c: c, r: bufio.NewReader(c), tr: tr}
	// The greeting; Dovecot may first say it is waiting for its auth process.
	_, err = rc.readUntil(func(line string) bool {
		return !strings.HasPrefix(line, "* OK Waiting for authentication")
	})
	return rc, err
}

func (rc *rawConn) send(data string) error {
	rc.tr.add('C', rc.id, data)
	rc.c.SetWriteDeadline(time.Now().Add(stepTimeout))
	if _, err := io.WriteString(rc.c, data); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

var literalAtEnd = regexp.MustCompile(`~?\{(\d+)\+?\}\r\n$`)

// readResponse reads one server response: a line plus any literals it announces.
func (rc *rawConn) readResponse() (string, error) {
	rc.c.SetReadDeadline(time.Now().Add(stepTimeout))
	var sb strings.Builder
	for {
		line, err := rc.r.ReadString('\n')
		sb.WriteString(line)
		if err != nil {
			return sb.String(), err
		}
		m := literalAtEnd.FindStringSubmatch(line)
		if m == nil {
			return sb.String(), nil
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n > maxLiteralSize {
			return sb.String(), fmt.Errorf("literal size %s too large", m[1])
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(rc.r, buf); err != nil {
			return sb.String() + string(buf), fmt.Errorf("read literal: %w", err)
		}
		sb.Write(buf)
	}
}

// readUntil records responses until one satisfies stop, and returns that one.
func (rc *rawConn) readUntil(stop func(string) bool) (string, error) {
	for {
		resp, err := rc.readResponse()
		if resp != "" {
			rc.tr.add('S', rc.id, resp)
		}
		if err != nil {
			rc.closed = true
			return resp, err
		}
		if stop(resp) {
			return resp, nil
		}
	}
}

// readToEOF records everything until the server closes the connection.
func (rc *rawConn) readToEOF() error {
	_, err := rc.readUntil(func(string) bool { return false })
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		rc.tr.note(rc.id, "connection closed by server")
		return nil
	}
	return err
}

// awaitTagOrContinuation reads until the tagged completion of tag or a continuation request.
func (rc *rawConn) awaitTagOrContinuation(tag string) (string, error) {
	return rc.readUntil(func(line string) bool {
		return strings.HasPrefix(line, "+") || strings.HasPrefix(line, tag+" ")
	})
}

func (rc *rawConn) close() {
	if !rc.closed {
		rc.c.Close()
		rc.closed = true
	}
}

// startTLS upgrades the connection after a tagged OK to STARTTLS.
func (rc *rawConn) startTLS() error {
	if rc.r.Buffered() > 0 {
		return fmt.Errorf("STARTTLS: %d bytes after the tagged OK", rc.r.Buffered())
	}
	tc := tls.Client(rc.c, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}) //nolint:gosec // test server's self-signed cert
	tc.SetDeadline(time.Now().Add(stepTimeout))
	if err := tc.Handshake(); err != nil {
		return fmt.Errorf("TLS handshake: %w", err)
	}
	tc.SetDeadline(time.Time{})
	rc.c, rc.r = tc, bufio.NewReader(tc)
	rc.tr.note(rc.id, "TLS handshake done")
	return nil
}
