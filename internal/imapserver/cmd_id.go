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
// the server's are Options.ServerID. Like Dovecot it is lenient: no
// argument, an odd list or an atom instead of NIL are answered too.
func cmdID(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var items []string
	if !dec.CRLF() {
		if !dec.ExpectSP() {
			return dec.Err()
		}
		isList := dec.List(func() bool {
			var s string
			var ok bool
			if !dec.ExpectNString(&s, &ok) {
				return false
			}
			if len(items) < 2*maxIDPairs && len(s) <= maxIDValueLen {
				items = append(items, s)
			}
			return true
		})
		var atom string
		if !isList && (dec.Err() != nil || !dec.ExpectAtom(&atom)) {
			return dec.Err()
		}
		if !cmd.end() {
			return dec.Err()
		}
	}
	if fields := idFields(items); fields != "" {
		c.log.Debugf("ID sent: %s", fields)
	}
	c.writeServerID()
	return nil
}

// idFields formats the client's ID pairs for the log.
func idFields(items []string) string {
	var pairs []string
	for i := 0; i+1 < len(items); i += 2 {
		if len(items[i]) <= maxIDField {
			pairs = append(pairs, items[i]+"="+items[i+1])
		}
	}
	return strings.Join(pairs, ", ")
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
