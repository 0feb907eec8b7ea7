package pop3server

import (
	"context"
	"fmt"
	"io"

	"roost/internal/storage"
)

// cmdRetr is RETR (RFC 1939 section 5): "+OK <size> octets", the message
// dot-stuffed with CRLF line ends, ".". The message becomes \Seen at QUIT.
func cmdRetr(ctx context.Context, c *conn, args string) error {
	i, _, err := c.msgnum(args, false)
	if err != nil {
		return err
	}
	c.box.markRetrieved(i)
	c.stats.retrCount++
	return c.fetch(ctx, i, -1, &c.stats.retrBytes)
}

// cmdTop is TOP (RFC 1939 section 7): the header and the first n body
// lines. TOP does not mark the message \Seen.
func cmdTop(ctx context.Context, c *conn, args string) error {
	i, rest, err := c.msgnum(args, true)
	if err != nil {
		return err
	}
	n, _, err := parseNumber(rest, 64, false, "size")
	if err != nil {
		return err
	}
	c.stats.topCount++
	lines := int64(n) + 1 // the empty line ending the header counts too
	if lines <= 0 {
		lines = -1
	}
	return c.fetch(ctx, i, lines, &c.stats.topBytes)
}

// fetch sends message i; bodyLines < 0 sends all of it. counter adds the
// bytes from the +OK line to the end of the message.
func (c *conn) fetch(ctx context.Context, i int, bodyLines int64, counter *int64) error {
	r, err := c.box.mb.Open(ctx, c.box.msgs[i].UID)
	if err != nil {
		return c.fetchFailed(i, err)
	}
	defer r.Close()
	start := c.out.Load() + int64(c.bw.Buffered())
	if bodyLines < 0 {
		c.ok(fmt.Sprintf("%d octets", c.box.msgs[i].Size))
	} else {
		c.ok("")
	}
	st := stuffer{w: c.bw, lines: bodyLines}
	if err := st.copy(io.NewSectionReader(r, 0, r.Size())); err != nil {
		return fmt.Errorf("send message: %w", err)
	}
	st.finish()
	*counter += c.out.Load() + int64(c.bw.Buffered()) - start
	c.line(".")
	return nil
}

// fetchFailed answers a message that cannot be read: expunged by another
// session ("-ERR Message N expunged.", a bad command when repeated), or
// a storage error.
func (c *conn) fetchFailed(i int, err error) error {
	switch storage.KindOf(err) {
	case storage.KindExpunged, storage.KindNotFound:
		c.errReply(fmt.Sprintf("Message %d expunged.", i+1))
		if i <= c.box.highestExpired {
			return errBad
		}
		c.box.highestExpired = i
		return nil
	}
	c.log.Errorf("open message UID %d: %v", c.box.msgs[i].UID, err)
	c.storageError(err)
	return nil
}
