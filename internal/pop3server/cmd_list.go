package pop3server

import (
	"context"
	"fmt"
	"strconv"
)

// cmdList is LIST (RFC 1939 section 5).
func cmdList(_ context.Context, c *conn, args string) error {
	if args != "" {
		i, _, err := c.msgnum(args, false)
		if err != nil {
			return err
		}
		c.ok(fmt.Sprintf("%d %d", i+1, c.box.msgs[i].Size))
		return nil
	}
	c.ok(fmt.Sprintf("%d messages:", c.box.count()))
	var b []byte
	for i, m := range c.box.msgs {
		if c.box.deleted[i] {
			continue
		}
		b = strconv.AppendInt(b[:0], int64(i+1), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, m.Size, 10)
		b = append(b, '\r', '\n')
		c.bw.Write(b)
	}
	c.line(".")
	return nil
}
