package memstore

import (
	"strings"
	"unicode/utf8"

	"roost/internal/storage"
)

// namespace is a configured namespace with its mailbox sections.
type namespace struct {
	storage.Namespace
	mailboxes []storage.MailboxConfig
}

// namespacesOf returns the configured namespaces, or one private INBOX
// namespace with an empty prefix and separator sep when none is configured.
func namespacesOf(cfgs []storage.NamespaceConfig, sep string) []namespace {
	if len(cfgs) == 0 {
		return []namespace{{Namespace: storage.Namespace{
			Type: "private", Separator: sep, Inbox: true, List: "yes", Subscriptions: true,
		}}}
	}
	nss := make([]namespace, 0, len(cfgs))
	for _, c := range cfgs {
		s := c.Separator
		if s == "" {
			s = sep
		}
		typ := c.Type
		if typ == "" {
			typ = "private"
		}
		list := c.List
		if list == "" {
			list = "yes"
		}
		nss = append(nss, namespace{
			Namespace: storage.Namespace{
				Type: typ, Prefix: c.Prefix, Separator: s, Inbox: c.Inbox,
				Hidden: c.Hidden, List: list, Subscriptions: c.Subscriptions,
			},
			mailboxes: c.Mailboxes,
		})
	}
	return nss
}

// nsOf returns the namespace a full name belongs to: the one with the
// longest matching prefix (INBOX-prefixes compared case-insensitively).
func (u *user) nsOf(name string) (namespace, bool) {
	best, found := namespace{}, false
	for _, ns := range u.nss {
		p := ns.Prefix
		if !hasPrefixFold(name, p) && name+ns.Separator != p {
			continue
		}
		if !found || len(p) > len(best.Prefix) {
			best, found = ns, true
		}
	}
	return best, found
}

// hasPrefixFold is strings.HasPrefix, except that a leading "INBOX" in
// prefix matches case-insensitively.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	if len(prefix) >= 5 && strings.EqualFold(prefix[:5], "INBOX") {
		return strings.EqualFold(s[:5], prefix[:5]) && s[5:len(prefix)] == prefix[5:]
	}
	return s[:len(prefix)] == prefix
}

// canonical returns name with INBOX (alone or as the first level)
// spelled in upper case.
func (u *user) canonical(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	if len(name) > 5 && strings.EqualFold(name[:5], "INBOX") {
		if ns, ok := u.nsOf(name); ok && strings.HasPrefix(name[5:], ns.Separator) {
			return "INBOX" + name[5:]
		}
	}
	return name
}

// checkName validates a client-supplied full name and returns its
// canonical form and separator.
func (u *user) checkName(name string) (string, string, error) {
	if name == "" || !utf8.ValidString(name) || strings.ContainsAny(name, "\x00\r\n") {
		return "", "", storage.Errorf(storage.KindParams, "Invalid mailbox name")
	}
	ns, ok := u.nsOf(name)
	if !ok {
		return "", "", storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", name)
	}
	name = u.canonical(name)
	rest := name[len(ns.Prefix):]
	if rest == "" {
		return "", "", storage.Errorf(storage.KindParams, "Invalid mailbox name")
	}
	for _, part := range strings.Split(rest, ns.Separator) {
		if part == "" {
			return "", "", storage.Errorf(storage.KindParams, "Invalid mailbox name: %s", name)
		}
	}
	return name, ns.Separator, nil
}

// parents returns the ancestors of name below its namespace prefix,
// nearest last: "a/b/c" -> "a", "a/b".
func (u *user) parents(name string) []string {
	ns, ok := u.nsOf(name)
	if !ok || len(name) <= len(ns.Prefix) {
		return nil
	}
	var out []string
	rest := name[len(ns.Prefix):]
	for i := 0; i < len(rest); i++ {
		if strings.HasPrefix(rest[i:], ns.Separator) {
			out = append(out, name[:len(ns.Prefix)+i])
		}
	}
	return out
}

// isChild reports whether child is below parent in the hierarchy.
func (u *user) isChild(child, parent string) bool {
	ns, ok := u.nsOf(parent)
	if !ok {
		return false
	}
	return strings.HasPrefix(child, parent+ns.Separator)
}
