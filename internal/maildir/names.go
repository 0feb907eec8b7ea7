package maildir

import (
	"path/filepath"
	"strings"

	"roost/internal/imap"
	"roost/internal/storage"
)

// namespace is one configured namespace with its parsed location.
type namespace struct {
	cfg storage.NamespaceConfig
	loc location
	sep string // client-visible separator
}

// listSep is the separator of names on disk: '.' for Maildir++, '/' for
// LAYOUT=fs.
func (ns *namespace) listSep() byte {
	if ns.loc.layoutFS {
		return '/'
	}
	return '.'
}

// mbox is a resolved mailbox name.
type mbox struct {
	ns     *namespace
	levels []string // hierarchy levels below the prefix, UTF-8; ["INBOX"] for INBOX
	full   string   // full client-visible name
}

func (m mbox) isInbox() bool {
	return m.ns.cfg.Inbox && len(m.levels) == 1 && m.levels[0] == "INBOX"
}

// resolve maps a client-visible name to its namespace and levels,
// checking that nothing can reach outside the mail directory.
func (u *user) resolve(name string) (mbox, error) {
	if strings.EqualFold(name, "INBOX") {
		for _, ns := range u.nss {
			if ns.cfg.Inbox {
				return mbox{ns: ns, levels: []string{"INBOX"}, full: ns.cfg.Prefix + "INBOX"}, nil
			}
		}
	}
	ns := u.nsFor(name)
	if ns == nil {
		return mbox{}, storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", name)
	}
	rest := name[len(ns.cfg.Prefix):]
	if rest == "" {
		return mbox{}, storage.Errorf(storage.KindParams, "Invalid mailbox name: %s", name)
	}
	levels := strings.Split(rest, ns.sep)
	if ns.cfg.Inbox && strings.EqualFold(levels[0], "INBOX") {
		levels[0] = "INBOX"
	}
	for _, l := range levels {
		if err := checkLevel(ns, l); err != nil {
			return mbox{}, storage.Errorf(storage.KindParams, "Invalid mailbox name %s: %s", name, err.Error())
		}
	}
	return mbox{ns: ns, levels: levels, full: ns.cfg.Prefix + strings.Join(levels, ns.sep)}, nil
}

type nameError string

func (e nameError) Error() string { return string(e) }

// checkLevel rejects hierarchy levels that are empty, would escape the
// mail directory, or contain the on-disk separator or control characters.
func checkLevel(ns *namespace, l string) error {
	switch {
	case l == "":
		return nameError("empty hierarchy level")
	case l == "." || l == "..":
		return nameError("'.' and '..' are not allowed")
	case strings.ContainsRune(l, '/'):
		return nameError("'/' is not allowed")
	case strings.ContainsRune(l, '~') && strings.HasPrefix(l, "~"):
		return nameError("names may not begin with '~'")
	case !ns.loc.layoutFS && strings.ContainsRune(l, '.'):
		return nameError("'.' is not allowed")
	case ns.loc.layoutFS && (l == "cur" || l == "new" || l == "tmp" || (ns.loc.dirname != "" && l == ns.loc.dirname)):
		return nameError("name is reserved")
	}
	for _, r := range l {
		if r < 0x20 || r == 0x7f {
			return nameError("control characters are not allowed")
		}
	}
	return nil
}

func (u *user) nsFor(name string) *namespace {
	var best *namespace
	for _, ns := range u.nss {
		p := ns.cfg.Prefix
		if p != "" && !strings.HasPrefix(name, p) {
			continue
		}
		if best == nil || len(p) > len(best.cfg.Prefix) {
			best = ns
		}
	}
	return best
}

// diskLevel encodes one level for the file system.
func (ns *namespace) diskLevel(l string) string {
	if ns.loc.utf8 {
		return l
	}
	return imap.EncodeMailbox(l)
}

// relPath is the mailbox directory relative to the mail root ("" for
// INBOX at the root).
func (m mbox) relPath() string {
	if m.isInbox() {
		return ""
	}
	enc := make([]string, len(m.levels))
	for i, l := range m.levels {
		enc[i] = m.ns.diskLevel(l)
	}
	if m.ns.loc.layoutFS {
		p := filepath.Join(enc...)
		if m.ns.loc.dirname != "" {
			p = filepath.Join(p, m.ns.loc.dirname)
		}
		return p
	}
	return "." + strings.Join(enc, ".")
}

// paths returns where the mailbox lives.
func (u *user) paths(m mbox) boxPaths {
	l := m.ns.loc
	p := boxPaths{name: m.full, root: l.root, uidvDir: l.control, fsync: u.cfg.Fsync, fields: u.cfg.Fields, lockLink: u.cfg.DotlockLink}
	rel := m.relPath()
	if m.isInbox() {
		p.dir = l.inbox
		p.control = l.inbox
		if l.control != l.root {
			p.control = l.control
		}
		if l.index != "" {
			p.index = l.inbox
			if l.index != l.root {
				p.index = l.index
			}
		}
		return p
	}
	p.dir = filepath.Join(l.root, rel)
	p.control = filepath.Join(l.control, rel)
	if l.index != "" {
		p.index = filepath.Join(l.index, rel)
	}
	return p
}

// nameFromDisk decodes a Maildir++ directory name (".a.b") or an fs path
// ("a/b") into hierarchy levels; ok is false for names that are not
// valid mailboxes.
func (ns *namespace) levelsFromDisk(rel string) ([]string, bool) {
	var parts []string
	if ns.loc.layoutFS {
		parts = strings.Split(rel, "/")
	} else {
		if !strings.HasPrefix(rel, ".") || rel == "." || rel == ".." {
			return nil, false
		}
		parts = strings.Split(rel[1:], ".")
	}
	for i, p := range parts {
		if p == "" {
			return nil, false
		}
		if !ns.loc.utf8 {
			d, err := imap.DecodeMailbox(p)
			if err != nil {
				return nil, false
			}
			parts[i] = d
		}
	}
	return parts, true
}
