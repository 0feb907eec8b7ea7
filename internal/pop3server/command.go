package pop3server

import (
	"context"
	"errors"
)

// commandSpec is one entry of the command table.
type commandSpec struct {
	handler func(ctx context.Context, c *conn, args string) error
	state   state // the state the command is valid in
}

type stateKey struct {
	name  string
	state state
}

// commandTable maps (name, state) to a handler. LAST answers only with
// pop3_enable_last (see run).
func commandTable() map[stateKey]commandSpec {
	t := map[stateKey]commandSpec{}
	add := func(name string, st state, h func(context.Context, *conn, string) error) {
		t[stateKey{name, st}] = commandSpec{handler: h, state: st}
	}
	add("CAPA", stateAuthorization, cmdCapa)
	add("USER", stateAuthorization, cmdUser)
	add("PASS", stateAuthorization, cmdPass)
	add("APOP", stateAuthorization, cmdApop)
	add("AUTH", stateAuthorization, cmdAuth)
	add("STLS", stateAuthorization, cmdStls)
	add("QUIT", stateAuthorization, cmdQuitLogin)
	add("CAPA", stateTransaction, cmdCapa)
	add("STAT", stateTransaction, cmdStat)
	add("LIST", stateTransaction, cmdList)
	add("RETR", stateTransaction, cmdRetr)
	add("TOP", stateTransaction, cmdTop)
	add("DELE", stateTransaction, cmdDele)
	add("RSET", stateTransaction, cmdRset)
	add("NOOP", stateTransaction, cmdNoop)
	add("UIDL", stateTransaction, cmdUidl)
	add("LAST", stateTransaction, cmdLast)
	add("QUIT", stateTransaction, cmdQuit)
	return t
}

// errBad marks a command that failed in a way Dovecot counts towards the
// bad-command limit; its reply was already written.
var errBad = errors.New("bad command")

// run parses and runs one command line; only a connection-ending error is
// returned.
func (c *conn) run(line string) error {
	name, args := splitCommand(line)
	if c.state == stateAuthorization && name == "" {
		return nil // pop3-login ignores empty lines
	}
	spec, ok := c.srv.table[stateKey{name, c.state}]
	if !ok || name == "LAST" && !c.srv.opts.EnableLast {
		return c.badCommand(c.unknown(name))
	}
	err := spec.handler(c.ctx, c, args)
	var ne *numberError
	switch {
	case err == nil:
		c.bad = 0
		return nil
	case errors.As(err, &ne):
		c.errReply(ne.text)
		return c.badCommand(nil)
	case errors.Is(err, errBad):
		return c.badCommand(nil)
	}
	return err
}

// unknown answers a command that does not exist in this state.
func (c *conn) unknown(name string) error {
	if c.state == stateAuthorization {
		c.errReply("Unknown command.")
	} else {
		c.errReply("Unknown command: " + name)
	}
	return nil
}

// badCommand counts a bad command and ends the connection over the limit.
func (c *conn) badCommand(error) error {
	c.bad++
	if c.state == stateAuthorization {
		if c.bad >= MaxLoginBadCommands {
			c.errReply("Too many invalid bad commands.")
			return &closeError{"Too many bad commands"}
		}
		return nil
	}
	if c.bad > MaxBadCommands {
		c.errReply("Too many bad commands.")
		return &closeError{"Too many bad commands."}
	}
	return nil
}
