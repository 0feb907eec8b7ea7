package imapserver

import (
	"strings"

	"roost/internal/storage"
)

// nsFor returns the namespace a mailbox name belongs to: the one with the
// longest matching prefix (INBOX belongs to the inbox=yes namespace).
func (c *conn) nsFor(name string) storage.Namespace {
	var best storage.Namespace
	found := false
	for _, ns := range c.user.Namespaces() {
		if name == "INBOX" && ns.Inbox {
			return ns
		}
		p := ns.Prefix
		if strings.HasPrefix(name, p) || name+ns.Separator == p {
			if !found || len(p) > len(best.Prefix) {
				best, found = ns, true
			}
		}
	}
	if !found {
		best.Separator = c.defaultSeparator()
	}
	return best
}

// defaultSeparator is the separator of the namespace with an empty
// prefix, else of the inbox namespace, else "/".
func (c *conn) defaultSeparator() string {
	seps := ""
	for _, ns := range c.user.Namespaces() {
		if ns.Prefix == "" && ns.Separator != "" {
			return ns.Separator
		}
		if ns.Inbox && seps == "" {
			seps = ns.Separator
		}
	}
	if seps == "" {
		seps = "/"
	}
	return seps
}
