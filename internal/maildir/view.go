package maildir

import (
	"context"
	"path/filepath"
	"sort"

	"roost/internal/storage"
)

// view is one session's view of a mailbox.
type view struct {
	u      *user
	b      *box
	name   string
	ro     bool
	notify chan struct{}
	msgs   []storage.Message
	recent map[uint32]struct{} // \Recent claimed by this view
	gone   map[uint32]*msg     // expunged from the box, still in the view (last state)
	seq    syncSeqs
	closed bool
}

// syncSeqs are the box.changeSeq values the view last synced to, per kind
// of sync: a partial sync (storage.SyncOptions) leaves changes for a fuller
// one, so each kind compares with its own value.
type syncSeqs struct {
	full      uint64 // everything applied
	noExpunge uint64 // everything but expunges applied
	flags     uint64 // flag changes applied
}

// set records that the view is in step with the box at seq for opts.
func (s *syncSeqs) set(seq uint64, opts storage.SyncOptions) {
	s.flags = seq
	if !opts.FlagsOnly {
		s.noExpunge = seq
		if !opts.NoExpunges {
			s.full = seq
		}
	}
}

// upToDate reports whether a sync with opts has nothing to apply.
func (s *syncSeqs) upToDate(seq uint64, opts storage.SyncOptions) bool {
	switch {
	case opts.FlagsOnly:
		return s.flags == seq
	case opts.NoExpunges:
		return s.noExpunge == seq
	}
	return s.full == seq
}

// advance moves every kind that was in step at prev to seq: the view's
// own change (Store) keeps it in step without hiding others' changes.
func (s *syncSeqs) advance(prev, seq uint64) {
	for _, p := range []*uint64{&s.full, &s.noExpunge, &s.flags} {
		if *p == prev {
			*p = seq
		}
	}
}

var _ storage.Mailbox = (*view)(nil)

// Open returns a new view of a mailbox.
func (u *user) Open(ctx context.Context, name string, opts storage.OpenOptions) (storage.Mailbox, error) {
	b, m, err := u.openBox(ctx, name)
	if err != nil {
		return nil, err
	}
	v := &view{u: u, b: b, name: m.full, ro: opts.ReadOnly, notify: make(chan struct{}, 1),
		recent: map[uint32]struct{}{}, gone: map[uint32]*msg{}}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := v.refreshLocked(ctx); err != nil {
		u.d.release(b)
		return nil, err
	}
	v.msgs = make([]storage.Message, len(b.msgs))
	for i, bm := range b.msgs {
		v.msgs[i] = v.messageLocked(bm)
	}
	v.seq.set(b.changeSeq, storage.SyncOptions{})
	b.views[v] = struct{}{}
	return v, nil
}

// refreshLocked syncs the box with the disk; a read-write view also moves
// new/ files to cur/ and claims \Recent.
func (v *view) refreshLocked(ctx context.Context) error {
	b := v.b
	if err := b.refreshLocked(ctx); err != nil {
		return err
	}
	if v.ro {
		return nil
	}
	b.moveNewLocked()
	for i := len(b.msgs) - 1; i >= 0 && b.msgs[i].uid >= b.firstRecent; i-- {
		v.recent[b.msgs[i].uid] = struct{}{}
	}
	if b.firstRecent < b.nextUID {
		b.firstRecent = b.nextUID
		b.flushIndexLocked(nil)
	}
	return nil
}

// moveNewLocked renames files in new/ to cur/, as Dovecot does when a
// session opens the mailbox read-write.
func (b *box) moveNewLocked() {
	for _, m := range b.msgs {
		if !m.inNew {
			continue
		}
		from := m.path(b.p.dir)
		to := filepath.Join(b.p.dir, "cur", m.name)
		if err := b.d.fs.Rename(from, to); err == nil {
			m.inNew = false
			b.touchLocked(m.uid)
		}
	}
}

func (v *view) messageLocked(bm *msg) storage.Message {
	m := v.b.messageLocked(bm)
	if v.ro {
		m.Recent = bm.uid >= v.b.firstRecent
	} else {
		_, m.Recent = v.recent[bm.uid]
	}
	return m
}

func (v *view) Name() string   { return v.name }
func (v *view) ReadOnly() bool { return v.ro }

func (v *view) Notify() <-chan struct{} { return v.notify }

func (v *view) Messages() []storage.Message { return v.msgs }

// Status is the status of the view.
func (v *view) Status() storage.Status {
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	st := v.b.statusLocked()
	st.Messages, st.Recent, st.Unseen, st.FirstUnseen, st.Size = len(v.msgs), 0, 0, 0, 0
	for i, m := range v.msgs {
		if m.Recent {
			st.Recent++
		}
		if !hasFlag(m.Flags, storage.FlagSeen) {
			st.Unseen++
			if st.FirstUnseen == 0 {
				st.FirstUnseen = i + 1
			}
		}
		st.Size += m.Size
	}
	return st
}

func hasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

// Sync brings the view up to date and reports what changed.
func (v *view) Sync(ctx context.Context) (*storage.Changes, error) {
	return v.SyncWith(ctx, storage.SyncOptions{})
}

// SyncWith is Sync with options (storage.OptionSyncer).
func (v *view) SyncWith(ctx context.Context, opts storage.SyncOptions) (*storage.Changes, error) {
	b := v.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if !opts.FlagsOnly {
		if err := v.refreshLocked(ctx); err != nil {
			return nil, err
		}
	}
	ch := &storage.Changes{}
	if v.seq.upToDate(b.changeSeq, opts) {
		return ch, nil
	}
	v.diffLocked(ch, opts)
	v.seq.set(b.changeSeq, opts)
	return ch, nil
}

// diffLocked replaces the view's messages with the box's, recording
// expunges (in IMAP announcement order), updates and new messages. With
// opts.NoExpunges or opts.FlagsOnly, messages gone from the box stay in
// the view with their last state; with opts.FlagsOnly no message is
// added.
func (v *view) diffLocked(ch *storage.Changes, opts storage.SyncOptions) {
	b := v.b
	keep := opts.NoExpunges || opts.FlagsOnly
	out := make([]storage.Message, 0, max(len(b.msgs), len(v.msgs)))
	i, j := 0, 0
	var lastUID uint32
	if len(v.msgs) > 0 {
		lastUID = v.msgs[len(v.msgs)-1].UID
	}
	for i < len(v.msgs) || j < len(b.msgs) {
		switch {
		case j == len(b.msgs) || (i < len(v.msgs) && v.msgs[i].UID < b.msgs[j].uid):
			if keep {
				out = append(out, v.goneMessageLocked(v.msgs[i], ch))
			} else {
				ch.Expunged = append(ch.Expunged, storage.Expunge{UID: v.msgs[i].UID, Seq: uint32(len(out) + 1)})
				delete(v.recent, v.msgs[i].UID)
				delete(v.gone, v.msgs[i].UID)
			}
			i++
		case i == len(v.msgs) || b.msgs[j].uid < v.msgs[i].UID:
			if b.msgs[j].uid > lastUID && !opts.FlagsOnly {
				out = append(out, v.messageLocked(b.msgs[j]))
				ch.New++
			}
			// a UID below the view's last one that the view never saw
			// cannot be announced; it appears on the next open.
			j++
		default:
			nm := v.messageLocked(b.msgs[j])
			if nm.ModSeq != v.msgs[i].ModSeq || nm.Recent != v.msgs[i].Recent {
				ch.Updated = append(ch.Updated, nm)
			}
			out = append(out, nm)
			i++
			j++
		}
	}
	v.msgs = out
}

// goneMessageLocked returns the view's entry for a message expunged from
// the box but kept in the view: its last state in the box, reported as
// updated when its flags changed before the expunge.
func (v *view) goneMessageLocked(old storage.Message, ch *storage.Changes) storage.Message {
	g := v.gone[old.UID]
	if g == nil {
		return old
	}
	nm := v.messageLocked(g)
	if nm.ModSeq != old.ModSeq {
		ch.Updated = append(ch.Updated, nm)
	}
	return nm
}

// viewIndex returns the index of uid in the view, or -1.
func (v *view) viewIndex(uid uint32) int {
	i := sort.Search(len(v.msgs), func(i int) bool { return v.msgs[i].UID >= uid })
	if i < len(v.msgs) && v.msgs[i].UID == uid {
		return i
	}
	return -1
}

// Close ends the view.
func (v *view) Close() error {
	if v.closed {
		return nil
	}
	v.closed = true
	v.b.mu.Lock()
	delete(v.b.views, v)
	v.b.mu.Unlock()
	v.u.d.release(v.b)
	return nil
}

func (v *view) readOnlyErr() error {
	return storage.Errorf(storage.KindNotPossible, "Mailbox is read-only")
}
