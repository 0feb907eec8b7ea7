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
	if c.sel != nil {
		c.announceFlags(nil) // flag changes still held back
	}
	if !strings.EqualFold(string(res.line), "DONE") {
		return bad("", "Expected DONE.")
	}
	return nil
}

// idleNotifyDelay batches flag changes that arrive together (a STORE by
// another session touching many messages) into one announcement, as
// Dovecot's NOTIFY_DELAY_MSECS does. New and expunged messages are
// announced at once: they are what an idling client waits for.
const idleNotifyDelay = 500 * time.Millisecond

// idleLoop waits for the client's line, announcing changes meanwhile.
func (c *conn) idleLoop(ctx context.Context, lines <-chan idleLine) (idleLine, error) {
	tick := time.NewTicker(c.srv.opts.IdleNotifyInterval)
	defer tick.Stop()
	delay := time.NewTimer(idleNotifyDelay)
	delay.Stop()
	defer delay.Stop()
	var notify, changes <-chan struct{}
	if c.sel != nil {
		notify = c.sel.mb.Notify()
	}
	if c.notify != nil {
		changes = c.notify.sub.C() // NOTIFY (feature_notify.go)
	}
	pending := false
	for {
		select {
		case res := <-lines:
			return res, nil
		case <-notify:
			held, err := c.idleSync(ctx)
			if err != nil {
				return idleLine{}, err
			}
			if held && !pending {
				pending = true
				delay.Reset(idleNotifyDelay)
			}
		case <-changes:
			if err := c.sendNotifications(ctx, true); err != nil {
				return idleLine{}, err
			}
		case <-delay.C:
			pending = false
			c.announceFlags(nil)
			c.searchUpdates(ctx)
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

// wakeSyncer is a mailbox that can answer a wake-up of its Notify channel
// with a sync that shares the disk scan another session of the mailbox
// made for the same change (maildir).
type wakeSyncer interface {
	SyncWoken(ctx context.Context) (*storage.Changes, error)
}

// wokenSync syncs mb after its Notify channel fired.
func wokenSync(ctx context.Context, mb storage.Mailbox) (*storage.Changes, error) {
	if ws, ok := mb.(wakeSyncer); ok {
		return ws.SyncWoken(ctx)
	}
	return mb.Sync(ctx)
}

// idleSync syncs the selected mailbox during IDLE: expunges, EXISTS and
// RECENT are written at once, flag changes are held for announceFlags.
// held reports whether any are held.
func (c *conn) idleSync(ctx context.Context) (held bool, err error) {
	ch, err := wokenSync(ctx, c.sel.mb)
	if err != nil {
		if storage.KindOf(err) == storage.KindNotFound {
			return false, c.mailboxGone()
		}
		c.log.Errorf("idle sync %s: %v", c.sel.name, err)
		return len(c.sel.pending) > 0, nil
	}
	c.holdFlags(ch.Updated)
	c.searchUpdatesExpunged(ch) // CONTEXT=SEARCH
	c.announceExpunges(ch.Expunged)
	c.announceCounts(ch)
	if len(c.sel.pending) == 0 {
		c.searchUpdates(ctx) // else after the held flags
	}
	c.notifyFetchNew(ch.New) // NOTIFY (feature_notify.go)
	return len(c.sel.pending) > 0, nil
}
