package imapserver

import (
	"context"
	"strings"
)

// enableable reports whether ENABLE can turn on an extension (RFC 5161).
// It grows as CONDSTORE and QRESYNC land (feature_condstore.go).
func enableable(name string) bool {
	switch name {
	default:
		return false
	}
}

// cmdEnable is ENABLE (RFC 5161): "* ENABLED" lists what was newly
// enabled; unknown names are ignored.
func cmdEnable(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var names []string
	for {
		var name string
		if !dec.ExpectSP() || !dec.ExpectAtom(&name) {
			return dec.Err()
		}
		names = append(names, strings.ToUpper(name))
		if dec.CRLF() {
			break
		}
		if dec.Err() != nil {
			return dec.Err()
		}
	}
	enc := c.untagged().Atom("ENABLED")
	for _, n := range names {
		if enableable(n) && !c.enabled[n] {
			c.enabled[n] = true
			enc.SP().Atom(n)
		}
	}
	enc.CRLF()
	return nil
}
