package pop3server

import (
	"context"
	"strconv"
)

// cmdUidl is UIDL (RFC 1939 section 7). A UIDL that cannot be computed
// (a format variable the storage lacks) ends the session, as in Dovecot.
func cmdUidl(ctx context.Context, c *conn, args string) error {
	if args != "" {
		i, _, err := c.msgnum(args, false)
		if err != nil {
			return err
		}
		uidls, err := c.allUIDLs(ctx)
		if err != nil {
			c.log.Errorf("%v", err)
			return &closeError{errUIDL.Error()}
		}
		c.ok(strconv.Itoa(i+1) + " " + uidls[i])
		return nil
	}
	c.ok("")
	uidls, err := c.allUIDLs(ctx)
	if err != nil {
		c.log.Errorf("%v", err)
		return &closeError{errUIDL.Error()}
	}
	for i, u := range uidls {
		if c.box.deleted[i] {
			continue
		}
		c.line(strconv.Itoa(i+1) + " " + u)
	}
	c.line(".")
	return nil
}
