package memstore

import (
	"bytes"
	"context"
	"slices"
	"sort"

	"roost/internal/storage"
)

// view is one session's storage.Mailbox. Its fields are touched only by
// the owning goroutine, under u.mu when they are compared with shared
// state.
type view struct {
	u        *user
	mb       *mailbox
	readOnly bool
	notify   chan struct{}

	msgs     []storage.Message
	data     []*message // data[i] backs msgs[i]; kept after an expunge until Sync
	recent   map[uint32]bool
	uidNext  uint32
	modSeq   uint64
	keywords []string
	closed   bool
}

var _ storage.Mailbox = (*view)(nil)

func (v *view) Name() string {
	v.u.mu.Lock()
	defer v.u.mu.Unlock()
	return v.mb.name
}

func (v *view) ReadOnly() bool              { return v.readOnly }
func (v *view) Messages() []storage.Message { return v.msgs }
func (v *view) Notify() <-chan struct{}     { return v.notify }

// Status is computed from the view, not from the shared mailbox.
func (v *view) Status() storage.Status {
	st := storage.Status{
		UIDValidity: v.mb.uidValidity, UIDNext: v.uidNext, Messages: len(v.msgs),
		HighestModSeq: v.modSeq, Keywords: slices.Clone(v.keywords),
	}
	for i, m := range v.msgs {
		if m.Recent {
			st.Recent++
		}
		if !slices.Contains(m.Flags, storage.FlagSeen) {
			st.Unseen++
			if st.FirstUnseen == 0 {
				st.FirstUnseen = i + 1
			}
		}
		st.Size += m.Size
	}
	return st
}

// claimLocked decides whether m is \Recent in this view, claiming it for
// a read-write view.
func (v *view) claimLocked(m *message) bool {
	if !m.recent {
		return v.recent[m.uid]
	}
	if !v.readOnly {
		m.recent = false
	}
	v.recent[m.uid] = true
	return true
}

// refreshLocked takes the initial snapshot.
func (v *view) refreshLocked() {
	v.msgs = make([]storage.Message, 0, len(v.mb.msgs))
	v.data = make([]*message, 0, len(v.mb.msgs))
	for _, m := range v.mb.msgs {
		v.msgs = append(v.msgs, m.export(v.claimLocked(m)))
		v.data = append(v.data, m)
	}
	v.uidNext, v.modSeq = v.mb.uidNext, v.mb.modSeq
	v.keywords = slices.Clone(v.mb.keywords)
}

// Sync reports expunges (highest sequence first), flag changes made
// elsewhere and new messages, and brings the view up to date.
func (v *view) Sync(ctx context.Context) (*storage.Changes, error) {
	return v.SyncWith(ctx, storage.SyncOptions{})
}

// SyncWith is Sync with options (storage.OptionSyncer): with NoExpunges
// or FlagsOnly, messages expunged elsewhere stay in the view with their
// last flags; with FlagsOnly no message is added.
func (v *view) SyncWith(ctx context.Context, opts storage.SyncOptions) (*storage.Changes, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v.u.mu.Lock()
	defer v.u.mu.Unlock()
	if v.closed {
		return nil, storage.Errorf(storage.KindNotPossible, "Mailbox is closed")
	}
	if v.mb.deleted {
		return nil, storage.Errorf(storage.KindNotFound, "Mailbox was deleted under us")
	}
	ch := &storage.Changes{}
	if !opts.NoExpunges && !opts.FlagsOnly {
		v.expungeLocked(ch)
	}
	for i, old := range v.msgs {
		m := v.data[i]
		if m.modSeq != old.ModSeq {
			v.msgs[i] = m.export(old.Recent)
			ch.Updated = append(ch.Updated, v.msgs[i])
		}
	}
	if opts.FlagsOnly {
		return ch, nil
	}
	for _, m := range v.mb.msgs {
		if m.uid >= v.uidNext {
			v.msgs = append(v.msgs, m.export(v.claimLocked(m)))
			v.data = append(v.data, m)
			ch.New++
		}
	}
	v.uidNext, v.modSeq = v.mb.uidNext, v.mb.modSeq
	v.keywords = slices.Clone(v.mb.keywords)
	return ch, nil
}

// expungeLocked drops the messages expunged from the mailbox.
func (v *view) expungeLocked(ch *storage.Changes) {
	for i := len(v.msgs) - 1; i >= 0; i-- {
		if v.mb.find(v.msgs[i].UID) < 0 {
			ch.Expunged = append(ch.Expunged, storage.Expunge{UID: v.msgs[i].UID, Seq: uint32(i + 1)})
			delete(v.recent, v.msgs[i].UID)
			v.msgs = slices.Delete(v.msgs, i, i+1)
			v.data = slices.Delete(v.data, i, i+1)
		}
	}
}

// index returns the position of uid in the view, or -1.
func (v *view) index(uid uint32) int {
	i := sort.Search(len(v.msgs), func(i int) bool { return v.msgs[i].UID >= uid })
	if i < len(v.msgs) && v.msgs[i].UID == uid {
		return i
	}
	return -1
}

type reader struct {
	*bytes.Reader
}

func (reader) Close() error { return nil }

// Open returns a message of the view, even one expunged elsewhere that the
// view has not announced yet.
func (v *view) Open(ctx context.Context, uid uint32) (storage.Reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	i := v.index(uid)
	if i < 0 {
		return nil, v.missing(uid)
	}
	return reader{bytes.NewReader(v.data[i].body)}, nil
}

func (v *view) missing(uid uint32) error {
	if uid < v.uidNext {
		return storage.Errorf(storage.KindExpunged, "Message was expunged")
	}
	return storage.Errorf(storage.KindNotFound, "Message not found")
}

func (v *view) Field(ctx context.Context, uid uint32, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	i := v.index(uid)
	if i < 0 {
		return nil, v.missing(uid)
	}
	m := v.data[i]
	v.u.mu.Lock()
	defer v.u.mu.Unlock()
	if m.fields == nil && v.u.fields != nil {
		f, err := v.u.computeFields(m.body)
		if err != nil {
			return nil, err
		}
		m.fields, m.fieldsErr = f, nil
	}
	b, ok := m.fields[name]
	if !ok {
		return nil, storage.Errorf(storage.KindNotFound, "No cached field %q", name)
	}
	return b, nil
}

func (v *view) Close() error {
	v.u.mu.Lock()
	defer v.u.mu.Unlock()
	delete(v.mb.views, v)
	v.closed = true
	return nil
}

func (v *view) checkWritable() error {
	if v.readOnly {
		return storage.Errorf(storage.KindPerm, "Mailbox is read-only")
	}
	if v.closed {
		return storage.Errorf(storage.KindNotPossible, "Mailbox is closed")
	}
	return nil
}

// sortedUnique returns uids sorted without duplicates.
func sortedUnique(uids []uint32) []uint32 {
	out := slices.Clone(uids)
	slices.Sort(out)
	return slices.Compact(out)
}

var _ storage.ExpungeHistory = (*view)(nil)

// ExpungedSince implements storage.ExpungeHistory: memstore remembers
// every expunge for the life of the mailbox.
func (v *view) ExpungedSince(ctx context.Context, modseq uint64) ([]uint32, bool, error) {
	v.u.mu.Lock()
	defer v.u.mu.Unlock()
	var uids []uint32
	for _, e := range v.mb.expunged {
		if e.modSeq > modseq {
			uids = append(uids, e.uid)
		}
	}
	slices.Sort(uids)
	return slices.Compact(uids), true, nil
}
