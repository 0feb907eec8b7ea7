package maildir

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"roost/internal/imap"
	"roost/internal/storage"
)

// subsNS returns the namespace whose subscriptions file records name.
func (u *user) subsNS(m mbox) *namespace {
	if m.ns.cfg.Subscriptions {
		return m.ns
	}
	for _, ns := range u.nss {
		if ns.cfg.Subscriptions && strings.HasPrefix(m.full, ns.cfg.Prefix) {
			return ns
		}
	}
	return m.ns
}

func subsPath(ns *namespace) string { return filepath.Join(ns.loc.control, subscriptionsName) }

// Subscriptions returns the subscribed names, as clients see them.
func (u *user) Subscriptions(ctx context.Context) ([]string, error) {
	var out []string
	for _, ns := range u.nss {
		if !ns.cfg.Subscriptions {
			continue
		}
		names, err := readSubscriptions(u.d.fs, subsPath(ns), ns.listSep())
		if err != nil {
			return nil, osError("read subscriptions", err)
		}
		for _, levels := range names {
			levels = ns.levelsFromStorage(levels)
			if ns.cfg.Inbox && len(levels) == 1 && strings.EqualFold(levels[0], "INBOX") {
				out = append(out, "INBOX")
				continue
			}
			out = append(out, ns.cfg.Prefix+strings.Join(levels, ns.sep))
		}
	}
	return out, nil
}

// SetSubscribed adds or removes a subscription.
func (u *user) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	m, err := u.resolve(name)
	if err != nil {
		return err
	}
	ns := u.subsNS(m)
	levels := m.levels
	if ns != m.ns {
		levels = strings.Split(strings.TrimPrefix(m.full, ns.cfg.Prefix), ns.sep)
	}
	levels = ns.levelsToStorage(levels)
	path := subsPath(ns)
	cur, err := readSubscriptions(u.d.fs, path, ns.listSep())
	if err != nil {
		return osError("read subscriptions", err)
	}
	key := strings.Join(levels, "\t")
	var out [][]string
	found := false
	for _, l := range cur {
		if strings.Join(l, "\t") == key {
			found = true
			if !subscribed {
				continue
			}
		}
		out = append(out, l)
	}
	if found == subscribed {
		return nil
	}
	if subscribed {
		out = append(out, levels)
	}
	if err := u.d.fs.MkdirAll(ns.loc.control, 0o700); err != nil {
		return osError("create control dir", err)
	}
	if err := writeSubscriptions(ctx, u, path, out); err != nil {
		return osError("write subscriptions", err)
	}
	return nil
}

// Status returns the status of a mailbox without selecting it.
func (u *user) Status(ctx context.Context, name string) (storage.Status, error) {
	b, _, err := u.openBox(ctx, name)
	if err != nil {
		return storage.Status{}, err
	}
	defer u.d.release(b)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.refreshLocked(ctx); err != nil {
		return storage.Status{}, err
	}
	return b.statusLocked(), nil
}

// openBox resolves name and returns its shared state (caller releases).
func (u *user) openBox(ctx context.Context, name string) (*box, mbox, error) {
	m, err := u.resolve(name)
	if err != nil {
		return nil, m, err
	}
	if ok, err := u.exists(m); err != nil {
		return nil, m, err
	} else if !ok {
		return nil, m, storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", m.full)
	}
	p := u.paths(m)
	if err := u.checkRoot(m.ns); err != nil {
		return nil, m, err
	}
	if m.isInbox() && filepath.Clean(p.dir) != filepath.Clean(m.ns.loc.root) { // the root was just stat'ed
		if err := u.d.fs.Mkdir(p.dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, m, osError("create INBOX", err)
		}
	}
	return u.d.acquire(p), m, nil
}

// levelsToStorage encodes levels as Dovecot stores them in the
// subscriptions file: storage names, modified UTF-7 unless :UTF-8.
func (ns *namespace) levelsToStorage(levels []string) []string {
	out := make([]string, len(levels))
	for i, l := range levels {
		out[i] = ns.diskLevel(l)
	}
	return out
}

// levelsFromStorage decodes subscription levels; a level that is not
// valid modified UTF-7 is kept as it is.
func (ns *namespace) levelsFromStorage(levels []string) []string {
	if ns.loc.utf8 {
		return levels
	}
	out := make([]string, len(levels))
	for i, l := range levels {
		d, err := imap.DecodeMailbox(l)
		if err != nil {
			d = l
		}
		out[i] = d
	}
	return out
}

// checkRoot fails with UNAVAILABLE when the namespace's mail root has
// gone (unmounted storage): nothing is then created or delivered.
func (u *user) checkRoot(ns *namespace) error {
	if _, err := u.d.fs.Stat(ns.loc.root); err != nil {
		if isNotExist(err) {
			return storage.Wrap(storage.KindUnavailable, "Mail storage is not available", err)
		}
		return osError("stat mail root", err)
	}
	return nil
}
