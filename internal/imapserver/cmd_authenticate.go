package imapserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"strings"

	"roost/internal/imapwire"
)

// cmdAuthenticate is AUTHENTICATE (RFC 3501 section 6.2.2) with SASL-IR
// (RFC 4959): challenges go out as "+ base64", "*" aborts.
func cmdAuthenticate(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var mech string
	if !dec.ExpectSP() || !dec.ExpectAtom(&mech) {
		return dec.Err()
	}
	mech = strings.ToUpper(mech)
	var resp []byte
	if dec.SP() {
		var ir string
		if !dec.ExpectAtom(&ir) {
			return dec.Err()
		}
		var err error
		if resp, err = decodeSASL(ir); err != nil {
			return no("ALERT", "Invalid base64 in response")
		}
	}
	if !cmd.end() {
		return dec.Err()
	}
	ex, err := c.srv.opts.Auth.Begin(ctx, c.ci, mech)
	if err != nil {
		return c.authError(err)
	}
	for {
		challenge, s, err := ex.Next(ctx, resp)
		if err != nil {
			c.failedAuth("", mech)
			if ref := nologinReferral(err, "", strings.ToUpper(mech)); ref != nil {
				return ref
			}
			return c.authError(err)
		}
		if s != nil {
			if s.Method == "" {
				s.Method = mech
			}
			return c.loggedIn(ctx, cmd, s)
		}
		if resp, err = c.saslRound(challenge); err != nil {
			return err
		}
	}
}

// decodeSASL decodes a SASL response: "=" is an empty response.
func decodeSASL(s string) ([]byte, error) {
	if s == "=" {
		return []byte{}, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// saslRound sends a challenge and reads the client's response line.
func (c *conn) saslRound(challenge []byte) ([]byte, error) {
	c.enc.Plus().Text(base64.StdEncoding.EncodeToString(challenge)).CRLF()
	if err := c.enc.Flush(); err != nil {
		return nil, err
	}
	line, err := c.readLine()
	if err != nil {
		return nil, err
	}
	if string(line) == "*" {
		return nil, &status{typ: typeBAD, text: "Authentication aborted by client."}
	}
	resp, err := base64.StdEncoding.DecodeString(string(line))
	if err != nil {
		return nil, no("ALERT", "Invalid base64 in response")
	}
	return resp, nil
}

// readLine reads one line outside of command parsing (a SASL response,
// IDLE's DONE), without its line end, within the line length limit.
func (c *conn) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := c.br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > c.srv.opts.MaxLineLength {
			for err == bufio.ErrBufferFull {
				_, err = c.br.ReadSlice('\n')
			}
			if err != nil {
				return nil, err
			}
			return nil, imapwire.ErrLineTooLong
		}
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			return nil, err
		}
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}
