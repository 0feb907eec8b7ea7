package imapserver

import (
	"context"
	"slices"
	"strings"
)

// enableable reports whether ENABLE can turn on an extension (RFC 5161).
func enableable(name string) bool {
	switch name {
	case extCondstore, extQresync, extIMAP4rev2, extUTF8Accept:
		return true
	}
	return false
}

// cmdEnable is ENABLE (RFC 5161): "* ENABLED" lists the extensions
// named that the server knows (Dovecot lists them even when they were
// already on); unknown names are ignored; no names at all is accepted, as
// Dovecot does. QRESYNC implies CONDSTORE (RFC 7162 section 3.2.3).
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
		if !enableable(n) || slices.Contains(enabled, n) {
			continue
		}
		enabled = append(enabled, n)
		switch n {
		case extCondstore:
			c.enableCondstore()
		case extQresync:
			c.enableCondstore()
			c.enabled[extQresync] = true
		default:
			c.enabled[n] = true
		}
	}
	c.applyUTF8()
	if len(enabled) > 0 { // Dovecot omits an empty ENABLED
		enc := c.untagged().Atom("ENABLED")
		for _, n := range enabled {
			enc.SP().Atom(enabledName(n))
		}
		enc.CRLF()
	}
	return nil
}
