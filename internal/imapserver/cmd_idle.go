package imapserver

import (
	"context"
	"strings"
	"time"

	"roost/internal/storage"
)

// idleLine is what the IDLE reader goroutine read.
type idleLine struct {
	line []byte
	err  error
}

// cmdIdle is IDLE (RFC 2177): "+ idling", then changes are announced as
// the mailbox's Notify channel fires, with "* OK Still here" every
// IdleNotifyInterval, until the client sends DONE.
func cmdIdle(ctx context.Context, c *conn, cmd *command) error {
	if !cmd.end() {
		return cmd.dec.Err()
	}
	c.enc.Plus().Text("idling").CRLF()
	if c.sel != nil {
		if err := c.sync(ctx); err != nil {
			c.syncFailed(err)
		}
	}
	if err := c.enc.Flush(); err != nil {
		return err
	}
	// The reader goroutine owns c.br until it sends its result; it is
	// always waited for below.
	lines := make(chan idleLine, 1)
	go func() {
		line, err := c.readLine()
		lines <- idleLine{line, err}
	}()
	res, err := c.idleLoop(ctx, lines)
	if err != nil {
		c.raw.Close() // unblocks the reader
		<-lines
		return err
	}
	if res.err != nil {
		return res.err
	}
	if !strings.EqualFold(string(res.line), "DONE") {
		return bad("", "Expected DONE.")
	}
	return nil
}

// idleNotifyDelay batches changes that arrive together (a STORE and an
// EXPUNGE by another session) into one announcement, as Dovecot's
// NOTIFY_DELAY_MSECS does.
const idleNotifyDelay = 500 * time.Millisecond

// idleLoop waits for the client's line, announcing changes meanwhile.
func (c *conn) idleLoop(ctx context.Context, lines <-chan idleLine) (idleLine, error) {
	tick := time.NewTicker(c.srv.opts.IdleNotifyInterval)
	defer tick.Stop()
	delay := time.NewTimer(idleNotifyDelay)
	delay.Stop()
	defer delay.Stop()
	var notify <-chan struct{}
	if c.sel != nil {
		notify = c.sel.mb.Notify()
	}
	pending := false
	for {
		select {
		case res := <-lines:
			return res, nil
		case <-notify:
			if !pending {
				pending = true
				delay.Reset(idleNotifyDelay)
			}
			continue
		case <-delay.C:
			pending = false
			if err := c.sync(ctx); err != nil {
				if storage.KindOf(err) == storage.KindNotFound {
					return idleLine{}, c.mailboxGone()
				}
				c.log.Errorf("idle sync %s: %v", c.sel.name, err)
			}
		case <-tick.C:
			c.untaggedStatus(typeOK, "", "Still here")
		case <-c.shutdownCh:
			c.bye("Server shutting down.", "Server shutting down")
			return idleLine{}, errShutdown
		case <-ctx.Done():
			return idleLine{}, ctx.Err()
		}
		if err := c.enc.Flush(); err != nil {
			return idleLine{}, err
		}
	}
}
