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
// enabled; unknown names are ignored; no names at all is accepted, as
// Dovecot does.
func cmdEnable(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var names []string
	for !dec.CRLF() {
		var name string
		if !dec.ExpectSP() || !dec.ExpectAtom(&name) {
			return dec.Err()
		}
		names = append(names, strings.ToUpper(name))
	}
	var enabled []string
	for _, n := range names {
		if enableable(n) && !c.enabled[n] {
			c.enabled[n] = true
			enabled = append(enabled, n)
		}
	}
	if len(enabled) > 0 { // Dovecot omits an empty ENABLED
		enc := c.untagged().Atom("ENABLED")
		for _, n := range enabled {
			enc.SP().Atom(n)
		}
		enc.CRLF()
	}
	return nil
}
