package maildir

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"roost/internal/storage"
)

// user is one user's mail store.
type user struct {
	d   *Driver
	cfg storage.UserConfig
	nss []*namespace
	now func() time.Time
}

var _ storage.User = (*user)(nil)

func (d *Driver) openUser(ctx context.Context, cfg storage.UserConfig) (*user, error) {
	u := &user{d: d, cfg: cfg, now: cfg.Now}
	if u.now == nil {
		u.now = d.now
	}
	if len(cfg.Namespaces) == 0 {
		return nil, storage.Errorf(storage.KindParams, "No namespaces configured")
	}
	for _, nc := range cfg.Namespaces {
		loc, err := parseLocation(nc.Location, cfg.Home)
		if err != nil {
			return nil, err
		}
		sep := nc.Separator
		if sep == "" {
			sep = "/"
			if !loc.layoutFS {
				sep = "."
			}
		}
		ns := &namespace{cfg: nc, loc: loc, sep: sep}
		if err := u.ensureRoot(ns); err != nil {
			return nil, err
		}
		u.nss = append(u.nss, ns)
	}
	if err := u.autoCreate(ctx); err != nil {
		return nil, err
	}
	return u, nil
}

// ensureRoot creates a missing mail root (and a missing home directory
// above it) as Dovecot does for virtual users on first login or delivery.
// When nothing of the home's path exists below "/", the storage is
// unavailable (a volume that is not mounted, a mistyped path), never an
// empty mailbox.
func (u *user) ensureRoot(ns *namespace) error {
	root := ns.loc.root
	if _, err := u.d.fs.Stat(root); err == nil {
		return nil
	} else if !isNotExist(err) {
		return osError("stat mail root", err)
	}
	home := u.cfg.Home
	if home != "" && (ns.loc.rootInHome || strings.HasPrefix(root, filepath.Clean(home)+"/")) {
		if err := u.ensureHome(filepath.Clean(home)); err != nil {
			return err
		}
	}
	if err := u.d.fs.MkdirAll(root, 0o700); err != nil {
		return osError("create mail root", err)
	}
	return nil
}

// ensureHome creates a missing home directory with its parents, provided
// its top-level directory exists.
func (u *user) ensureHome(home string) error {
	if _, err := u.d.fs.Stat(home); err == nil {
		return nil
	} else if !isNotExist(err) {
		return osError("stat home", err)
	}
	top := home
	for filepath.Dir(top) != "/" && filepath.Dir(top) != "." && filepath.Dir(top) != top {
		top = filepath.Dir(top)
	}
	if _, err := u.d.fs.Stat(top); err != nil {
		return storage.Wrap(storage.KindUnavailable, "Mail storage is not available", err)
	}
	if err := u.d.fs.MkdirAll(home, 0o700); err != nil {
		return osError("create home directory", err)
	}
	return nil
}

func (u *user) autoCreate(ctx context.Context) error {
	for _, ns := range u.nss {
		for _, mc := range ns.cfg.Mailboxes {
			if mc.Auto != "create" && mc.Auto != "subscribe" {
				continue
			}
			name := ns.cfg.Prefix + mc.Name
			if strings.EqualFold(mc.Name, "INBOX") && ns.cfg.Inbox {
				name = "INBOX"
			}
			if err := u.Create(ctx, name, nil); err != nil && storage.KindOf(err) != storage.KindExists {
				return err
			}
			if mc.Auto == "subscribe" {
				if err := u.SetSubscribed(ctx, name, true); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (u *user) Username() string { return u.cfg.Username }

func (u *user) Namespaces() []storage.Namespace {
	out := make([]storage.Namespace, len(u.nss))
	for i, ns := range u.nss {
		c := ns.cfg
		out[i] = storage.Namespace{Type: c.Type, Prefix: c.Prefix, Separator: ns.sep, Inbox: c.Inbox,
			Hidden: c.Hidden, List: c.List, Subscriptions: c.Subscriptions}
	}
	return out
}

func (u *user) Close() error { return nil }

func (u *user) fsyncFiles() bool { return u.cfg.Fsync != storage.FsyncNever }

// exists reports whether the mailbox directory exists.
func (u *user) exists(m mbox) (bool, error) {
	if m.isInbox() {
		return true, nil // INBOX always exists; created on first use
	}
	fi, err := u.d.fs.Stat(u.paths(m).dir)
	if err == nil {
		if !fi.IsDir() {
			return false, nil
		}
		if m.ns.loc.layoutFS {
			// fs layout: a directory without cur/ is only a parent.
			_, err := u.d.fs.Stat(filepath.Join(u.paths(m).dir, "cur"))
			return err == nil, nil
		}
		return true, nil
	}
	if isNotExist(err) {
		return false, nil
	}
	return false, osError("stat mailbox", err)
}

// Create creates a mailbox (cur/ new/ tmp/ and, for Maildir++, the
// maildirfolder marker).
func (u *user) Create(ctx context.Context, name string, specialUse []string) error {
	m, err := u.resolve(name)
	if err != nil {
		return err
	}
	if ok, err := u.exists(m); err != nil {
		return err
	} else if ok {
		return storage.Errorf(storage.KindExists, "Mailbox already exists")
	}
	p := u.paths(m)
	if err := u.d.fs.MkdirAll(p.dir, 0o700); err != nil {
		return osError("create mailbox", err)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := u.d.fs.Mkdir(filepath.Join(p.dir, sub), 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return osError("create mailbox", err)
		}
	}
	if !m.isInbox() {
		if err := writeFileSync(u.d.fs, filepath.Join(p.dir, "maildirfolder"), nil, false); err != nil {
			return osError("create maildirfolder", err)
		}
	}
	if len(specialUse) > 0 && !u.configuredSpecialUse(m, specialUse) {
		return u.storeSpecialUse(ctx, m, specialUse)
	}
	return nil
}

func (u *user) configuredSpecialUse(m mbox, su []string) bool {
	have := u.specialUseOf(m)
	for _, s := range su {
		found := false
		for _, h := range have {
			found = found || strings.EqualFold(h, s)
		}
		if !found {
			return false
		}
	}
	return true
}

func (u *user) specialUseOf(m mbox) []string {
	rel := strings.Join(m.levels, m.ns.sep)
	for _, mc := range m.ns.cfg.Mailboxes {
		if mc.Name == rel || (m.isInbox() && strings.EqualFold(mc.Name, "INBOX")) {
			return mc.SpecialUse
		}
	}
	return nil
}

// Delete removes a mailbox. INBOX cannot be deleted. With LAYOUT=fs a
// mailbox with children keeps its directory as a \Noselect parent.
func (u *user) Delete(ctx context.Context, name string) error {
	m, err := u.resolve(name)
	if err != nil {
		return err
	}
	if m.isInbox() {
		return storage.Errorf(storage.KindNotPossible, "INBOX can't be deleted.")
	}
	if ok, err := u.exists(m); err != nil {
		return err
	} else if !ok {
		return storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", name)
	}
	p := u.paths(m)
	guid := uidlistGUID(u.d.fs, filepath.Join(p.control, uidlistName))
	u.d.forget(p.dir)
	if m.ns.loc.layoutFS {
		if err := u.deleteFS(p); err != nil {
			return err
		}
		return u.dropAttributes(ctx, guid)
	}
	// Move it out of sight first so a crash leaves no half mailbox.
	trash := filepath.Join(m.ns.loc.root, "tmp", "roost-deleted."+u.d.uniqueName(u.now()))
	if err := u.d.fs.MkdirAll(filepath.Join(m.ns.loc.root, "tmp"), 0o700); err != nil {
		return osError("delete mailbox", err)
	}
	if err := u.d.fs.Rename(p.dir, trash); err != nil {
		return osError("delete mailbox", err)
	}
	if err := u.d.fs.RemoveAll(trash); err != nil {
		return osError("delete mailbox", err)
	}
	u.removeControl(p)
	return u.dropAttributes(ctx, guid)
}

func (u *user) deleteFS(p boxPaths) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := u.d.fs.RemoveAll(filepath.Join(p.dir, sub)); err != nil {
			return osError("delete mailbox", err)
		}
	}
	// Every file left belongs to the deleted mailbox (uidlist, keywords,
	// roost's and Dovecot's index files); directories are children,
	// which keep the directory as a \Noselect parent.
	ents, err := u.d.fs.ReadDir(p.dir)
	if err != nil {
		return osError("delete mailbox", err)
	}
	children := false
	for _, e := range ents {
		if e.IsDir() {
			children = true
			continue
		}
		if err := u.d.fs.Remove(filepath.Join(p.dir, e.Name())); err != nil && !isNotExist(err) {
			return osError("delete mailbox", err)
		}
	}
	u.removeControl(p)
	if !children {
		if err := u.d.fs.Remove(p.dir); err != nil && !isNotExist(err) {
			return osError("delete mailbox", err)
		}
	}
	return nil
}

func (u *user) removeControl(p boxPaths) {
	if p.control != p.dir {
		for _, f := range []string{uidlistName, keywordsName} {
			_ = u.d.fs.Remove(filepath.Join(p.control, f))
		}
		_ = u.d.fs.Remove(p.control)
	}
	if p.index != "" && p.index != p.dir {
		for _, f := range []string{indexFileName, indexLogName, cacheFileName, modseqFileName} {
			_ = u.d.fs.Remove(filepath.Join(p.index, f))
		}
		_ = u.d.fs.Remove(p.index)
	}
}

// Rename renames a mailbox and its children, and their subscriptions.
func (u *user) Rename(ctx context.Context, from, to string) error {
	src, err := u.resolve(from)
	if err != nil {
		return err
	}
	dst, err := u.resolve(to)
	if err != nil {
		return err
	}
	if src.isInbox() {
		return storage.Errorf(storage.KindNotPossible, "Renaming INBOX isn't supported")
	}
	if src.ns != dst.ns {
		return storage.Errorf(storage.KindNotPossible, "Can't rename mailboxes across namespaces")
	}
	if ok, err := u.exists(src); err != nil {
		return err
	} else if !ok && !u.hasChildren(src) {
		return storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", from)
	}
	if ok, err := u.exists(dst); err != nil {
		return err
	} else if ok || dst.isInbox() {
		return storage.Errorf(storage.KindExists, "Target mailbox already exists")
	}
	if strings.HasPrefix(dst.full+src.ns.sep, src.full+src.ns.sep) {
		return storage.Errorf(storage.KindNotPossible, "Can't rename mailbox under itself")
	}
	// Subscriptions stay as they are, as with Dovecot's RENAME: the old
	// names remain subscribed (RFC 3501 section 6.3.6: the server never
	// removes a subscription on its own).
	return u.renameDirs(src, dst)
}

func (u *user) renameDirs(src, dst mbox) error {
	ps, pd := u.paths(src), u.paths(dst)
	u.d.forget(ps.dir)
	if src.ns.loc.layoutFS {
		if err := u.d.fs.MkdirAll(filepath.Dir(pd.dir), 0o700); err != nil {
			return osError("rename mailbox", err)
		}
		return renameAlso(u, ps, pd)
	}
	// Maildir++: the mailbox and every ".src.*" child directory.
	root := src.ns.loc.root
	names, err := u.d.fs.ReadDirNames(root)
	if err != nil {
		return osError("rename mailbox", err)
	}
	srcRel, dstRel := src.relPath(), dst.relPath()
	if _, err := u.d.fs.Stat(ps.dir); err == nil {
		if err := renameAlso(u, ps, pd); err != nil {
			return err
		}
	}
	for _, n := range names {
		if strings.HasPrefix(n, srcRel+".") {
			child := dstRel + n[len(srcRel):]
			u.d.forget(filepath.Join(root, n))
			cs := boxPaths{dir: filepath.Join(root, n), control: filepath.Join(src.ns.loc.control, n)}
			cd := boxPaths{dir: filepath.Join(root, child), control: filepath.Join(src.ns.loc.control, child)}
			if src.ns.loc.index != "" {
				cs.index, cd.index = filepath.Join(src.ns.loc.index, n), filepath.Join(src.ns.loc.index, child)
			}
			if err := renameAlso(u, cs, cd); err != nil {
				return err
			}
		}
	}
	return nil
}

// renameAlso renames a mailbox directory and its separate control and
// index directories.
func renameAlso(u *user, from, to boxPaths) error {
	if err := u.d.fs.Rename(from.dir, to.dir); err != nil {
		return osError("rename mailbox", err)
	}
	if from.control != from.dir {
		_ = u.d.fs.MkdirAll(filepath.Dir(to.control), 0o700)
		_ = u.d.fs.Rename(from.control, to.control)
	}
	if from.index != "" && from.index != from.dir {
		_ = u.d.fs.MkdirAll(filepath.Dir(to.index), 0o700)
		_ = u.d.fs.Rename(from.index, to.index)
	}
	return nil
}

// List returns every mailbox of every visible namespace.
func (u *user) List(ctx context.Context) ([]storage.MailboxInfo, error) {
	var out []storage.MailboxInfo
	for _, ns := range u.nss {
		if ns.cfg.Hidden {
			continue
		}
		infos, err := u.listNS(ns)
		if err != nil {
			return nil, err
		}
		out = append(out, infos...)
	}
	return out, nil
}

func (u *user) listNS(ns *namespace) ([]storage.MailboxInfo, error) {
	exists := map[string]bool{} // joined levels -> selectable
	if ns.cfg.Inbox {
		exists["INBOX"] = true
	}
	if err := u.scanMailboxes(ns, exists); err != nil {
		return nil, err
	}
	// Parents implied by children.
	for k := range exists {
		levels := strings.Split(k, "\x00")
		for i := 1; i < len(levels); i++ {
			p := strings.Join(levels[:i], "\x00")
			if _, ok := exists[p]; !ok {
				exists[p] = false
			}
		}
	}
	keys := make([]string, 0, len(exists))
	for k := range exists {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]storage.MailboxInfo, 0, len(keys))
	stored := u.storedSpecialUses()
	for i, k := range keys {
		levels := strings.Split(k, "\x00")
		m := mbox{ns: ns, levels: levels, full: ns.cfg.Prefix + strings.Join(levels, ns.sep)}
		if m.isInbox() {
			m.full = "INBOX"
		}
		info := storage.MailboxInfo{Name: m.full, SpecialUse: u.listSpecialUse(m, stored)}
		if !exists[k] {
			info.Attrs = append(info.Attrs, storage.AttrNoSelect)
		}
		if i+1 < len(keys) && strings.HasPrefix(keys[i+1], k+"\x00") {
			info.Attrs = append(info.Attrs, storage.AttrHasChildren)
		} else {
			info.Attrs = append(info.Attrs, storage.AttrHasNoChildren)
		}
		out = append(out, info)
	}
	return out, nil
}

// scanMailboxes fills exists with the mailboxes found on disk.
func (u *user) scanMailboxes(ns *namespace, exists map[string]bool) error {
	root := ns.loc.root
	if !ns.loc.layoutFS {
		ents, err := u.d.fs.ReadDir(root)
		if err != nil {
			if isNotExist(err) {
				return storage.Wrap(storage.KindUnavailable, "Mail storage is not available", err)
			}
			return osError("list mailboxes", err)
		}
		for _, e := range ents {
			if !e.IsDir() && e.Type()&fs.ModeSymlink == 0 {
				continue
			}
			levels, ok := ns.levelsFromDisk(e.Name())
			if !ok || (ns.cfg.Inbox && len(levels) == 1 && strings.EqualFold(levels[0], "INBOX")) {
				continue
			}
			exists[strings.Join(levels, "\x00")] = true
		}
		return nil
	}
	return u.walkFS(ns, root, "", exists)
}

func (u *user) walkFS(ns *namespace, dir, rel string, exists map[string]bool) error {
	ents, err := u.d.fs.ReadDir(dir)
	if err != nil {
		if isNotExist(err) && rel == "" {
			return storage.Wrap(storage.KindUnavailable, "Mail storage is not available", err)
		}
		return nil
	}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || n == "cur" || n == "new" || n == "tmp" || strings.HasPrefix(n, ".") || n == ns.loc.dirname {
			continue
		}
		r := n
		if rel != "" {
			r = rel + "/" + n
		}
		levels, ok := ns.levelsFromDisk(r)
		if !ok {
			continue
		}
		if rel == "" && ns.cfg.Inbox && strings.EqualFold(n, "INBOX") && ns.loc.inbox == ns.loc.root {
			// a child hierarchy INBOX/... on disk is listed under INBOX
		}
		sub := filepath.Join(dir, n)
		mdir := sub
		if ns.loc.dirname != "" {
			mdir = filepath.Join(sub, ns.loc.dirname)
		}
		_, err := u.d.fs.Stat(filepath.Join(mdir, "cur"))
		exists[strings.Join(levels, "\x00")] = err == nil
		if err := u.walkFS(ns, sub, r, exists); err != nil {
			return err
		}
	}
	return nil
}

// hasChildren reports whether a mailbox that does not exist itself has
// child mailboxes (a \Noselect parent), which RENAME moves as Dovecot does.
func (u *user) hasChildren(m mbox) bool {
	if m.ns.loc.layoutFS {
		fi, err := u.d.fs.Stat(u.paths(m).dir)
		return err == nil && fi.IsDir()
	}
	names, err := u.d.fs.ReadDirNames(m.ns.loc.root)
	if err != nil {
		return false
	}
	prefix := m.relPath() + "."
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}
