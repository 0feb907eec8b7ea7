package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
)

// textConn is a minimal line-protocol client for POP3 (RFC 1939) and LMTP
// (RFC 2033).
type textConn struct {
	c    net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	long []byte
}

func dialText(ctx context.Context, t Target) (*textConn, error) {
	c, err := dial(ctx, t)
	if err != nil {
		return nil, err
	}
	return &textConn{c: c, r: bufio.NewReaderSize(c, ioBufferSize), w: bufio.NewWriterSize(c, ioBufferSize)}, nil
}

func (tc *textConn) Close() error { return tc.c.Close() }

func (tc *textConn) line() ([]byte, error) {
	l, err := readLine(tc.r, &tc.long)
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	return l, nil
}

func (tc *textConn) send(line string) error {
	tc.w.WriteString(line)
	tc.w.WriteString("\r\n")
	if err := tc.w.Flush(); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// pop3 reads one POP3 status line and fails unless it is +OK.
func (tc *textConn) pop3() ([]byte, error) {
	l, err := tc.line()
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(l, []byte("+OK")) {
		return nil, &StatusError{Line: string(l)}
	}
	return l, nil
}

// pop3Cmd sends a command and reads its status.
func (tc *textConn) pop3Cmd(line string) ([]byte, error) {
	if err := tc.send(line); err != nil {
		return nil, err
	}
	return tc.pop3()
}

// pop3Multi sends a command with a multi-line answer and skips the body,
// returning its size in bytes.
func (tc *textConn) pop3Multi(line string) (int, error) {
	if _, err := tc.pop3Cmd(line); err != nil {
		return 0, err
	}
	n := 0
	for {
		l, err := tc.line()
		if err != nil {
			return n, err
		}
		if len(l) == 1 && l[0] == '.' {
			return n, nil
		}
		n += len(l) + 2
	}
}

// smtpReply reads one (possibly multi-line) SMTP/LMTP reply and returns
// its code.
func (tc *textConn) smtpReply() (int, []byte, error) {
	for {
		l, err := tc.line()
		if err != nil {
			return 0, nil, err
		}
		if len(l) < 3 {
			return 0, l, &StatusError{Line: string(l)}
		}
		code, err := strconv.Atoi(string(l[:3]))
		if err != nil {
			return 0, l, &StatusError{Line: string(l)}
		}
		if len(l) > 3 && l[3] == '-' {
			continue
		}
		return code, l, nil
	}
}

// smtpExpect reads a reply and fails unless its code is in [lo, lo+99].
func (tc *textConn) smtpExpect(lo int) error {
	code, l, err := tc.smtpReply()
	if err != nil {
		return err
	}
	if code < lo || code > lo+99 {
		return &StatusError{Line: string(l)}
	}
	return nil
}

// writeDotStuffed writes msg (CRLF lines) as SMTP DATA, dot-stuffed and
// terminated.
func (tc *textConn) writeDotStuffed(msg []byte) {
	for len(msg) > 0 {
		i := bytes.IndexByte(msg, '\n')
		line := msg
		if i >= 0 {
			line, msg = msg[:i+1], msg[i+1:]
		} else {
			msg = nil
		}
		if line[0] == '.' {
			tc.w.WriteByte('.')
		}
		tc.w.Write(line)
	}
	tc.w.WriteString(".\r\n")
}
