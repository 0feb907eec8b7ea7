package maildir

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"roost/internal/storage"
)

// The change feed (storage.ChangeWatcher, for IMAP NOTIFY).
//
// A user with at least one watcher has a userFeed, found by the mail root
// of each of its namespaces. Changes made in this process are published
// where they happen: message changes by box.notifyLocked (every save,
// flag change and expunge wakes the box's views there), mailbox and
// subscription changes by feedUser. Changes made by other processes
// (Dovecot, dovecot-lda, Postfix writing into new/) are found by
// Driver.Poll, which compares the stamps of every mailbox of a watched
// user (cur/, new/, dovecot-uidlist), the mailbox list and the
// subscriptions file with its previous look. A message change found both
// ways is published twice; watchers compare statuses, so that costs one
// Status call. Lock order: box.mu, then feedTable.mu, then the hub's.

// feedTable maps mail roots to the feeds of watched users. The zero value
// is ready.
type feedTable struct {
	n     atomic.Int32 // len(roots): saves skip the lock when nobody watches
	mu    sync.Mutex   // guards following
	roots map[string]*userFeed
}

// userFeed is the change feed of one user.
type userFeed struct {
	hub   storage.ChangeHub
	u     *user      // the user that started watching: paths and listing
	roots []string   // where the feed is registered in the table
	pmu   sync.Mutex // guards following; held by the poll
	snap  *feedSnap  // nil until the first poll
	// resnap: this process renamed, created or deleted a mailbox or
	// changed a subscription (already published): the next poll takes
	// the list and subscriptions as they are, without publishing.
	resnap bool
}

// feedSnap is what the poll saw last.
type feedSnap struct {
	boxes map[string]boxStamp // by client-visible name
	subs  []stamp             // subscriptions file of each namespace
	subd  map[string]bool     // subscribed names
}

// boxStamp are a mailbox's stamps as a poll compares them.
type boxStamp struct{ cur, nw, ul stamp }

// feedUser is a user whose mailbox and subscription changes are published
// to its feed.
type feedUser struct {
	*user
}

var _ storage.ChangeWatcher = feedUser{}

// WatchChanges subscribes to the user's change feed. The first watcher
// takes the poll's first look, so that what other processes do from now
// on is reported.
func (u feedUser) WatchChanges(ctx context.Context, wake func()) *storage.ChangeSub {
	f, sub, first := u.subscribe(wake)
	f.pmu.Lock()
	defer f.pmu.Unlock()
	if first || f.snap == nil {
		// What happened while nobody watched is nobody's news.
		f.snap, f.resnap = nil, false
		f.snap, _ = f.look(ctx) // on failure the next poll takes it
	}
	return sub
}

// subscribe adds a subscription to the user's feed; first reports that
// nobody watched before.
func (u feedUser) subscribe(wake func()) (*userFeed, *storage.ChangeSub, bool) {
	t := &u.d.feeds
	t.mu.Lock()
	defer t.mu.Unlock()
	roots := u.roots()
	var f *userFeed
	for _, r := range roots {
		if f = t.roots[r]; f != nil {
			break
		}
	}
	if f == nil {
		f = &userFeed{u: u.user}
		if t.roots == nil {
			t.roots = map[string]*userFeed{}
		}
	}
	for _, r := range roots {
		if t.roots[r] == nil {
			t.roots[r] = f
			f.roots = append(f.roots, r)
		}
	}
	t.n.Store(int32(len(t.roots)))
	first := f.hub.Len() == 0
	return f, f.hub.Subscribe(wake), first
}

// roots returns the mail roots of the user's private namespaces.
func (u *user) roots() []string {
	var out []string
	for _, ns := range u.nss {
		if ns.cfg.Type == "" || ns.cfg.Type == "private" {
			out = append(out, ns.loc.root)
		}
	}
	return out
}

// feed returns the feed registered for root, or nil.
func (t *feedTable) feed(root string) *userFeed {
	if t.n.Load() == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.roots[root]
}

// publishMessages reports a message change in the mailbox name under
// root (box.notifyLocked).
func (t *feedTable) publishMessages(root, name string) {
	if f := t.feed(root); f != nil {
		f.hub.Publish(storage.Change{Kind: storage.ChangeMessages, Mailbox: name})
	}
}

// publish reports a mailbox or subscription change made through u.
func (u feedUser) publish(ch storage.Change) {
	m, err := u.resolve(ch.Mailbox)
	if err != nil {
		return
	}
	f := u.d.feeds.feed(m.ns.loc.root)
	if f == nil {
		return
	}
	f.pmu.Lock()
	f.resnap = true
	f.pmu.Unlock()
	f.hub.Publish(ch)
}

// Create creates a mailbox and publishes it.
func (u feedUser) Create(ctx context.Context, name string, specialUse []string) error {
	if err := u.user.Create(ctx, name, specialUse); err != nil {
		return err
	}
	u.publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: name})
	return nil
}

// Delete deletes a mailbox and publishes it.
func (u feedUser) Delete(ctx context.Context, name string) error {
	if err := u.user.Delete(ctx, name); err != nil {
		return err
	}
	u.publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: name, Deleted: true})
	return nil
}

// Rename renames a mailbox and its children, and publishes each.
func (u feedUser) Rename(ctx context.Context, from, to string) error {
	var children []string
	if m, err := u.resolve(from); err == nil && u.d.feeds.feed(m.ns.loc.root) != nil {
		children = storage.Children(ctx, u, from, m.ns.sep)
	}
	if err := u.user.Rename(ctx, from, to); err != nil {
		return err
	}
	u.publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: to, OldName: from})
	for _, c := range children {
		u.publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: to + c[len(from):], OldName: c})
	}
	return nil
}

// SetSubscribed changes a subscription and publishes it.
func (u feedUser) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	if err := u.user.SetSubscribed(ctx, name, subscribed); err != nil {
		return err
	}
	u.publish(storage.Change{Kind: storage.ChangeSubscription, Mailbox: name, Subscribed: subscribed})
	return nil
}

// pollFeeds looks for changes other processes made to watched users'
// mail, and drops feeds nobody watches any more.
func (d *Driver) pollFeeds(ctx context.Context) {
	t := &d.feeds
	t.mu.Lock()
	var feeds []*userFeed
	for r, f := range t.roots {
		if f.hub.Len() == 0 {
			delete(t.roots, r)
			t.n.Store(int32(len(t.roots)))
			continue
		}
		if !slices.Contains(feeds, f) {
			feeds = append(feeds, f)
		}
	}
	t.mu.Unlock()
	for _, f := range feeds {
		if ctx.Err() != nil {
			return
		}
		f.poll(ctx)
	}
}

// poll compares the user's mail with the previous look and publishes
// the differences.
func (f *userFeed) poll(ctx context.Context) {
	f.pmu.Lock()
	defer f.pmu.Unlock()
	now, err := f.look(ctx)
	if err != nil {
		return // a transient failure: the next poll tries again
	}
	old, quiet := f.snap, f.resnap
	f.snap, f.resnap = now, false
	if old == nil {
		return
	}
	for name, st := range now.boxes {
		ost, ok := old.boxes[name]
		switch {
		case !ok && !quiet:
			f.hub.Publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: name})
		case ok && ost != st:
			f.hub.Publish(storage.Change{Kind: storage.ChangeMessages, Mailbox: name})
		}
	}
	if quiet {
		return
	}
	for name := range old.boxes {
		if _, ok := now.boxes[name]; !ok {
			f.hub.Publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: name, Deleted: true})
		}
	}
	f.publishSubs(old, now)
}

func (f *userFeed) publishSubs(old, now *feedSnap) {
	for name := range now.subd {
		if !old.subd[name] {
			f.hub.Publish(storage.Change{Kind: storage.ChangeSubscription, Mailbox: name, Subscribed: true})
		}
	}
	for name := range old.subd {
		if !now.subd[name] {
			f.hub.Publish(storage.Change{Kind: storage.ChangeSubscription, Mailbox: name})
		}
	}
}

// look takes the stamps of every mailbox and of the subscriptions.
func (f *userFeed) look(ctx context.Context) (*feedSnap, error) {
	u := f.u
	infos, err := u.List(ctx)
	if err != nil {
		return nil, err
	}
	s := &feedSnap{boxes: make(map[string]boxStamp, len(infos))}
	for _, mi := range infos {
		if slices.Contains(mi.Attrs, storage.AttrNoSelect) || slices.Contains(mi.Attrs, storage.AttrNonExistent) {
			continue
		}
		m, err := u.resolve(mi.Name)
		if err != nil {
			continue
		}
		p := u.paths(m)
		var bs boxStamp
		bs.cur, _ = statStamp(u.d.fs, filepath.Join(p.dir, "cur"))
		bs.nw, _ = statStamp(u.d.fs, filepath.Join(p.dir, "new"))
		bs.ul, _ = statStamp(u.d.fs, filepath.Join(p.control, uidlistName))
		s.boxes[mi.Name] = bs
	}
	for _, ns := range u.nss {
		st, _ := statStamp(u.d.fs, subsPath(ns))
		s.subs = append(s.subs, st)
	}
	if f.snap != nil && slices.Equal(f.snap.subs, s.subs) {
		s.subd = f.snap.subd
		return s, nil
	}
	subs, err := u.Subscriptions(ctx)
	if err != nil {
		return nil, err
	}
	s.subd = make(map[string]bool, len(subs))
	for _, n := range subs {
		s.subd[strings.Clone(n)] = true
	}
	return s, nil
}
