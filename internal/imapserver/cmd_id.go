package imapserver

import (
	"context"
	"sort"
	"strings"
)

// RFC 2971 section 3.3 limits.
const (
	maxIDPairs    = 30
	maxIDField    = 30
	maxIDValueLen = 1024
)

// cmdID is ID (RFC 2971): the client's fields are logged at debug level,
// the server's are Options.ServerID.
func cmdID(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	if !dec.ExpectSP() {
		return dec.Err()
	}
	var fields []string
	var nilList string
	if !dec.Atom(&nilList) {
		n := 0
		ok := dec.ExpectList(func() bool {
			var k, v string
			var hasV bool
			if !dec.ExpectString(&k) || !dec.ExpectSP() || !dec.ExpectNString(&v, &hasV) {
				return false
			}
			n++
			if n <= maxIDPairs && len(k) <= maxIDField && len(v) <= maxIDValueLen {
				fields = append(fields, k+"="+v)
			}
			return true
		})
		if !ok {
			return dec.Err()
		}
	} else if !strings.EqualFold(nilList, "NIL") {
		return bad("", "Error in IMAP command ID: Invalid parameters.")
	}
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	if len(fields) > 0 {
		c.log.Debugf("ID sent: %s", strings.Join(fields, ", "))
	}
	c.writeServerID()
	return nil
}

func (c *conn) writeServerID() {
	id := c.srv.opts.ServerID
	enc := c.untagged().Atom("ID").SP()
	if len(id) == 0 {
		enc.NIL().CRLF()
		return
	}
	keys := make([]string, 0, len(id))
	for k := range id {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	enc.List(len(keys), func(i int) {
		enc.String(keys[i]).SP().String(id[keys[i]])
	})
	enc.CRLF()
}
