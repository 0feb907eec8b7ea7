package maildir

import (
	"context"
	"path/filepath"
	"sort"
	"time"

	"roost/internal/storage"
)

// view is one session's view of a mailbox.
type view struct {
	u       *user
	b       *box
	name    string
	ro      bool
	notify  chan struct{}
	recs    []vmsg              // the view, ascending UID; shared with snap while snap != nil
	snap    *snapshot           // the box snapshot recs is, unchanged; nil once the view differs
	msgs    []storage.Message   // recs as Messages(), built on first use; nil when not built
	recent  map[uint32]struct{} // \Recent in this view (claimed, or seen read-only)
	nRecent int                 // messages of recs in recent; -1: count again
	gone    map[uint32]*msg     // expunged from the box, still in the view (last state)
	seq     syncSeqs
	closed  bool
	woken   uint64 // box.notifyGen of the last wake not yet synced; 0 for none
}

// vmsg is one message of a view, 24 bytes: the box's message, for what
// never changes (UID, dates, size, file), and the flags and MODSEQ the
// view last synced. Flag names are looked up only when asked for; \Recent
// is the view's own (view.recent), so records can be shared.
type vmsg struct {
	m      *msg
	modseq uint64
	kw     uint32
	sys    uint8
}

// snapshot is the box's messages as view records at one changeSeq, with
// their counts. It is never modified: every view in step with the box
// shares it, so opening a view does no per-message work, and a view about
// to change its records copies them first (ownRecsLocked).
type snapshot struct {
	seq         uint64
	recs        []vmsg
	unseen      int
	firstUnseen int // 1-based, 0 for none
	size        int64
}

// snapshotLocked returns the box's snapshot, built if the box changed
// since the last one.
func (b *box) snapshotLocked() *snapshot {
	if b.snap != nil && b.snap.seq == b.changeSeq {
		return b.snap
	}
	s := &snapshot{seq: b.changeSeq, recs: make([]vmsg, len(b.msgs))}
	for i, m := range b.msgs {
		s.recs[i] = vmsg{m: m, modseq: m.modseq, kw: m.flags.kw, sys: m.flags.sys}
		if m.flags.sys&flagSeen == 0 {
			s.unseen++
			if s.firstUnseen == 0 {
				s.firstUnseen = i + 1
			}
		}
		s.size += m.vsize
	}
	b.snap = s
	return s
}

// useSnapshotLocked makes the view the box's current snapshot.
func (v *view) useSnapshotLocked() {
	s := v.b.snapshotLocked()
	v.recs, v.snap, v.msgs, v.nRecent = s.recs, s, nil, -1
}

// ownRecsLocked gives the view its own copy of shared records before it
// changes one in place.
func (v *view) ownRecsLocked() {
	if v.snap != nil {
		v.recs = append([]vmsg(nil), v.recs...)
		v.snap = nil
	}
}

func (v *view) isRecent(uid uint32) bool {
	if len(v.recent) == 0 {
		return false
	}
	_, ok := v.recent[uid]
	return ok
}

func (r *vmsg) uid() uint32 { return r.m.uid }

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
	if v.ro {
		for i := len(b.msgs) - 1; i >= 0 && b.msgs[i].uid >= b.firstRecent; i-- {
			v.recent[b.msgs[i].uid] = struct{}{}
		}
	}
	v.useSnapshotLocked()
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
	b.refreshGen = b.notifyGen
	v.claimLocked()
	return nil
}

// claimLocked is the part of refreshLocked that reads no directory: a
// read-write view moves new/ files to cur/ and claims \Recent.
func (v *view) claimLocked() {
	b := v.b
	if v.ro {
		return
	}
	b.moveNewLocked()
	for i := len(b.msgs) - 1; i >= 0 && b.msgs[i].uid >= b.firstRecent; i-- {
		v.recent[b.msgs[i].uid] = struct{}{}
		v.nRecent = -1
	}
	if b.firstRecent < b.nextUID {
		b.firstRecent = b.nextUID
		b.flushIndexLocked(nil)
	}
}

// moveNewLocked renames files in new/ to cur/, as Dovecot does when a
// session opens the mailbox read-write.
// Only a box that may hold such files (b.maybeNew) is walked.
func (b *box) moveNewLocked() {
	if !b.maybeNew {
		return
	}
	left := false
	for _, m := range b.msgs {
		if !m.inNew {
			continue
		}
		from := m.path(b.p.dir)
		to := filepath.Join(b.p.dir, "cur", m.name)
		if err := b.d.fs.Rename(from, to); err == nil {
			b.ownChangeLocked(true)
			b.ownChangeLocked(false)
			m.inNew = false
			b.touchLocked(m.uid)
		} else {
			left = true
		}
	}
	b.maybeNew = left
	b.adoptOwnLocked()
}

// vmsgLocked is the view's record of a box message in its current state.
func (v *view) vmsgLocked(bm *msg) vmsg {
	return vmsg{m: bm, modseq: bm.modseq, kw: bm.flags.kw, sys: bm.flags.sys}
}

// recentChangedLocked updates a read-only view's \Recent for a message
// it shows: recent while no read-write session has claimed it. It reports
// whether that changed. A read-write view's claims never change.
func (v *view) recentChangedLocked(uid uint32) bool {
	if !v.ro {
		return false
	}
	now := uid >= v.b.firstRecent
	if now == v.isRecent(uid) {
		return false
	}
	if now {
		v.recent[uid] = struct{}{}
	} else {
		delete(v.recent, uid)
	}
	v.nRecent = -1
	return true
}

// messageLocked turns a view record into a storage.Message.
func (v *view) messageLocked(r vmsg) storage.Message {
	m := v.undatedMessageLocked(r)
	idate, sdate := v.b.datesLocked(r.m)
	m.InternalDate, m.SaveDate = time.Unix(idate, 0), time.Unix(sdate, 0)
	return m
}

// undatedMessageLocked is messageLocked without the dates (zero).
func (v *view) undatedMessageLocked(r vmsg) storage.Message {
	return storage.Message{
		UID:    r.m.uid,
		Flags:  v.b.flagNamesLocked(flagSet{sys: r.sys, kw: r.kw}),
		Recent: v.isRecent(r.m.uid),
		ModSeq: v.b.effModseqLocked(r.modseq),
		Size:   r.m.vsize,
	}
}

func (v *view) Name() string   { return v.name }
func (v *view) ReadOnly() bool { return v.ro }

func (v *view) Notify() <-chan struct{} { return v.notify }

// Messages returns the view, built from its records on first use after a
// change; storage.MessageLister reads the records without building it.
func (v *view) Messages() []storage.Message {
	if v.msgs == nil {
		v.b.mu.Lock()
		msgs := make([]storage.Message, len(v.recs))
		for i := range v.recs {
			msgs[i] = v.messageLocked(v.recs[i])
		}
		v.b.mu.Unlock()
		v.msgs = msgs
	}
	return v.msgs
}

var _ storage.MessageLister = (*view)(nil)

// Len is len(Messages()) (storage.MessageLister).
func (v *view) Len() int { return len(v.recs) }

// UIDAt is Messages()[i].UID (storage.MessageLister).
func (v *view) UIDAt(i int) uint32 { return v.recs[i].m.uid }

// MessageAt is Messages()[i] (storage.MessageLister).
func (v *view) MessageAt(i int) storage.Message {
	if v.msgs != nil {
		return v.msgs[i]
	}
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	return v.messageLocked(v.recs[i])
}

// MessageAtUndated is MessageAt(i) with zero InternalDate and SaveDate,
// for a FETCH that shows neither: a message of a first scan has not had
// its file stat'ed for them (dateUnknown), and this does not stat it.
func (v *view) MessageAtUndated(i int) storage.Message {
	if v.msgs != nil {
		return v.msgs[i]
	}
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	return v.undatedMessageLocked(v.recs[i])
}

// DatesSizes sets dates[k] and sizes[k] to the INTERNALDATE (Unix
// seconds) and RFC822.SIZE of message index idx[k], under one lock: for
// SORT over a large mailbox, instead of a MessageAt each.
func (v *view) DatesSizes(idx []int, dates, sizes []int64) {
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	for k, i := range idx {
		r := &v.recs[i]
		dates[k], _ = v.b.datesLocked(r.m)
		sizes[k] = r.m.vsize
	}
}

// Status is the status of the view.
func (v *view) Status() storage.Status {
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	st := v.b.headStatusLocked()
	st.Messages = len(v.recs)
	st.Recent = v.recentCountLocked()
	if s := v.snap; s != nil {
		st.Unseen, st.FirstUnseen, st.Size = s.unseen, s.firstUnseen, s.size
		return st
	}
	for i := range v.recs {
		r := &v.recs[i]
		if r.sys&flagSeen == 0 {
			st.Unseen++
			if st.FirstUnseen == 0 {
				st.FirstUnseen = i + 1
			}
		}
		st.Size += r.m.vsize
	}
	return st
}

// recentCountLocked is the number of the view's messages with \Recent,
// counted again only after the view or its claims changed.
func (v *view) recentCountLocked() int {
	if v.nRecent >= 0 {
		return v.nRecent
	}
	n := 0
	for uid := range v.recent {
		if v.viewIndex(uid) >= 0 {
			n++
		}
	}
	v.nRecent = n
	return n
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
		v.woken = 0
		if err := v.refreshLocked(ctx); err != nil {
			return nil, err
		}
	}
	return v.changesLocked(opts), nil
}

// changesLocked brings the view up to the box's state and reports what
// changed.
func (v *view) changesLocked(opts storage.SyncOptions) *storage.Changes {
	ch := &storage.Changes{}
	if v.seq.upToDate(v.b.changeSeq, opts) {
		return ch
	}
	v.diffLocked(ch, opts)
	v.seq.set(v.b.changeSeq, opts)
	return ch
}

// SyncWoken is Sync answering a wake-up of Notify (IDLE): when the box
// was refreshed from disk after that wake-up, by the first of the
// mailbox's views to sync, the view takes that refresh and reads no
// directory, so one scan per change serves every session of the mailbox.
// Changes made on disk since are found by the driver's Poll, which wakes
// the views again; a Sync (NOOP, a command) always looks at the disk.
func (v *view) SyncWoken(ctx context.Context) (*storage.Changes, error) {
	b := v.b
	b.mu.Lock()
	shared := v.woken != 0 && b.refreshGen >= v.woken
	if !shared {
		b.mu.Unlock()
		return v.Sync(ctx)
	}
	defer b.mu.Unlock()
	v.woken = 0
	v.claimLocked()
	return v.changesLocked(storage.SyncOptions{}), nil
}

// diffLocked replaces the view's messages with the box's, recording
// expunges (in IMAP announcement order), updates and new messages. With
// opts.NoExpunges or opts.FlagsOnly, messages gone from the box stay in
// the view with their last state; with opts.FlagsOnly no message is
// added.
func (v *view) diffLocked(ch *storage.Changes, opts storage.SyncOptions) {
	b := v.b
	keep := opts.NoExpunges || opts.FlagsOnly
	out := make([]vmsg, 0, max(len(b.msgs), len(v.recs)))
	i, j := 0, 0
	var lastUID uint32
	if len(v.recs) > 0 {
		lastUID = v.recs[len(v.recs)-1].uid()
	}
	for i < len(v.recs) || j < len(b.msgs) {
		switch {
		case j == len(b.msgs) || (i < len(v.recs) && v.recs[i].uid() < b.msgs[j].uid):
			old := v.recs[i]
			if keep {
				out = append(out, v.goneMessageLocked(old, ch))
			} else {
				ch.Expunged = append(ch.Expunged, storage.Expunge{UID: old.uid(), Seq: uint32(len(out) + 1)})
				delete(v.recent, old.uid())
				delete(v.gone, old.uid())
			}
			i++
		case i == len(v.recs) || b.msgs[j].uid < v.recs[i].uid():
			if b.msgs[j].uid > lastUID && !opts.FlagsOnly {
				out = append(out, v.vmsgLocked(b.msgs[j]))
				v.recentChangedLocked(b.msgs[j].uid)
				ch.New++
			}
			// a UID below the view's last one that the view never saw
			// cannot be announced; it appears on the next open.
			j++
		default:
			nm := v.vmsgLocked(b.msgs[j])
			if rc := v.recentChangedLocked(nm.m.uid); rc || nm.modseq != v.recs[i].modseq {
				ch.Updated = append(ch.Updated, v.messageLocked(nm))
			}
			out = append(out, nm)
			i++
			j++
		}
	}
	v.recs, v.snap, v.msgs, v.nRecent = out, nil, nil, -1
	if !keep && len(out) == len(b.msgs) {
		// every box message, each in its current state: the snapshot
		v.useSnapshotLocked()
	}
}

// goneMessageLocked returns the view's entry for a message expunged from
// the box but kept in the view: its last state in the box, reported as
// updated when its flags changed before the expunge.
func (v *view) goneMessageLocked(old vmsg, ch *storage.Changes) vmsg {
	g := v.gone[old.uid()]
	if g == nil {
		return old
	}
	nm := v.vmsgLocked(g)
	if nm.modseq != old.modseq {
		ch.Updated = append(ch.Updated, v.messageLocked(nm))
	}
	return nm
}

// viewIndex returns the index of uid in the view, or -1.
func (v *view) viewIndex(uid uint32) int {
	i := sort.Search(len(v.recs), func(i int) bool { return v.recs[i].m.uid >= uid })
	if i < len(v.recs) && v.recs[i].m.uid == uid {
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
