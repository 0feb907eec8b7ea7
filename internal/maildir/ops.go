package maildir

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"sort"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// Open returns a message's content in CRLF form.
func (v *view) Open(ctx context.Context, uid uint32) (storage.Reader, error) {
	f, size, vsize, err := v.openFile(ctx, uid)
	if err != nil {
		return nil, err
	}
	r, err := newCRLFReader(f, size, vsize)
	if err != nil {
		_ = f.Close()
		return nil, osError("read message", err)
	}
	return r, nil
}

// openFile opens a message file, rescanning once if another process
// renamed it meanwhile.
func (v *view) openFile(ctx context.Context, uid uint32) (f vfs.File, size, vsize int64, err error) {
	if v.viewIndex(uid) < 0 {
		return nil, 0, 0, storage.Errorf(storage.KindNotFound, "No such message")
	}
	b := v.b
	b.mu.Lock()
	defer b.mu.Unlock()
	for attempt := 0; ; attempt++ {
		m := b.lookup(uid)
		if m == nil {
			return nil, 0, 0, storage.Errorf(storage.KindExpunged, "Message was expunged")
		}
		f, err := b.d.fs.Open(m.path(b.p.dir))
		if err == nil {
			return f, m.size, m.vsize, nil
		}
		if !isNotExist(err) || attempt > 0 {
			return nil, 0, 0, osError("open message", err)
		}
		b.dirty = true
		if err := b.refreshLocked(ctx); err != nil {
			return nil, 0, 0, err
		}
	}
}

// ScanField calls fn with the cached field name of each of uids, in
// order, reading the field cache in large sequential reads (SEARCH and
// SORT over many messages). ok is false when the message has no cached
// value: the caller falls back to Field. fn runs with the mailbox locked,
// so it must not call the mailbox; val is valid only during the call.
func (v *view) ScanField(ctx context.Context, uids []uint32, name string, fn func(i int, val []byte, ok bool)) error {
	b := v.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.openIndexLocked()
	mem := func(i int, val []byte, ok bool) {
		if !ok {
			val, ok = b.fields[uids[i]][name]
		}
		fn(i, val, ok)
	}
	if b.ix == nil {
		for i := range uids {
			mem(i, nil, false)
		}
		return nil
	}
	if err := b.ix.ScanField(uids, name, mem); err != nil {
		return storage.Wrap(storage.KindInternal, "Internal error reading the field cache", err)
	}
	return nil
}

// Field returns a cached field, computing all fields with the user's
// FieldFunc when none are cached.
func (v *view) Field(ctx context.Context, uid uint32, name string) ([]byte, error) {
	b := v.b
	b.mu.Lock()
	val, ok, cached := b.cachedFieldLocked(uid, name)
	b.mu.Unlock()
	if cached {
		if !ok {
			return nil, storage.Errorf(storage.KindNotFound, "No such field: %s", name)
		}
		return val, nil
	}
	if b.p.fields == nil {
		return nil, storage.Errorf(storage.KindNotFound, "No such field: %s", name)
	}
	r, err := v.Open(ctx, uid)
	if err != nil {
		return nil, err
	}
	fields, err := b.p.fields(r, r.Size())
	_ = r.Close()
	if err != nil {
		return nil, storage.Wrap(storage.KindInternal, "Internal error computing message fields", err)
	}
	b.mu.Lock()
	if b.lookup(uid) != nil {
		b.storeFieldsLocked(uid, fields)
	}
	b.mu.Unlock()
	val, ok = fields[name]
	if !ok {
		return nil, storage.Errorf(storage.KindNotFound, "No such field: %s", name)
	}
	return val, nil
}

// Store changes flags by renaming the message files.
func (v *view) Store(ctx context.Context, uids []uint32, op storage.FlagOp, flags []string, opts storage.StoreOptions) (storage.StoreResult, error) {
	var res storage.StoreResult
	if v.ro {
		return res, v.readOnlyErr()
	}
	b := v.b
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.adoptOwnLocked()
	if err := b.ensureLoadedLocked(ctx); err != nil {
		return res, err
	}
	want, err := b.flagSetLocked(ctx, flags, op != storage.FlagsRemove)
	if err != nil {
		return res, err
	}
	changed := false
	defer b.modseqTxnLocked()()
	for _, uid := range sortedUIDs(uids) {
		vi := v.viewIndex(uid)
		if vi < 0 {
			continue
		}
		m := b.lookup(uid)
		if m == nil {
			continue // expunged meanwhile; announced by the next Sync
		}
		if opts.UnchangedSince != 0 && b.effModseqLocked(m.modseq) > opts.UnchangedSince {
			res.Modified = append(res.Modified, uid)
			continue
		}
		nf := applyOp(m.flags, op, want)
		if nf == m.flags {
			continue
		}
		if err := b.renameFlagsLocked(ctx, m, nf); err != nil {
			if storage.KindOf(err) == storage.KindExpunged {
				continue
			}
			return res, err
		}
		if b.lookup(uid) == nil {
			continue
		}
		b.bumpModseqLocked()
		m.modseq = b.highestModSeq
		changed = true
		r := v.vmsgLocked(m)
		v.ownRecsLocked()
		v.recs[vi] = r
		nm := v.messageLocked(r)
		if v.msgs != nil {
			v.msgs[vi] = nm
		}
		res.Updated = append(res.Updated, nm)
	}
	if changed {
		prev := b.changeSeq
		b.changeSeq++
		v.seq.advance(prev, b.changeSeq)
		b.flushIndexLocked(nil)
		b.notifyLocked(v)
	}
	return res, nil
}

// ensureLoadedLocked loads the box state if no sync did yet.
func (b *box) ensureLoadedLocked(ctx context.Context) error {
	if b.loaded && !b.gone {
		return nil
	}
	return b.refreshLocked(ctx)
}

func applyOp(cur flagSet, op storage.FlagOp, f flagSet) flagSet {
	switch op {
	case storage.FlagsAdd:
		cur.sys |= f.sys
		cur.kw |= f.kw
	case storage.FlagsRemove:
		cur.sys &^= f.sys
		cur.kw &^= f.kw
	default:
		cur.sys, cur.kw = f.sys, f.kw
	}
	return cur
}

// renameFlagsLocked renames m's file to carry flags nf. If another
// process renamed it meanwhile, it rescans and retries once.
func (b *box) renameFlagsLocked(ctx context.Context, m *msg, nf flagSet) error {
	for attempt := 0; ; attempt++ {
		newName := fileNameFor(m.base(), nf)
		to := filepath.Join(b.p.dir, "cur", newName)
		err := b.d.fs.Rename(m.path(b.p.dir), to)
		if err == nil {
			b.ownChangeLocked(m.inNew)
			b.ownChangeLocked(false)
			m.name, m.inNew, m.flags = newName, false, nf
			b.touchLocked(m.uid)
			return nil
		}
		if !isNotExist(err) || attempt > 0 {
			return osError("change flags", err)
		}
		b.dirty = true
		if err := b.refreshLocked(ctx); err != nil {
			return err
		}
		cur := b.lookup(m.uid)
		if cur == nil {
			return storage.Errorf(storage.KindExpunged, "Message was expunged")
		}
		*m = *cur
	}
}

func sortedUIDs(uids []uint32) []uint32 {
	s := append([]uint32(nil), uids...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// Expunge unlinks message files. The view keeps them until Sync.
func (v *view) Expunge(ctx context.Context, uids []uint32) error {
	if v.ro {
		return v.readOnlyErr()
	}
	b := v.b
	b.mu.Lock()
	defer b.mu.Unlock()
	defer b.adoptOwnLocked()
	if err := b.ensureLoadedLocked(ctx); err != nil {
		return err
	}
	if uids == nil {
		for i := range v.recs {
			if m := b.lookup(v.recs[i].uid()); m != nil && m.flags.sys&flagDeleted != 0 {
				uids = append(uids, m.uid)
			}
		}
	}
	changed := false
	defer b.modseqTxnLocked()()
	for _, uid := range sortedUIDs(uids) {
		if v.viewIndex(uid) < 0 {
			continue
		}
		ok, err := b.expungeLocked(ctx, uid)
		if err != nil {
			return err
		}
		changed = changed || ok
	}
	if changed {
		b.flushIndexLocked(nil)
		b.notifyLocked(nil)
	}
	return nil
}

// expungeLocked unlinks one message; false if it was already gone.
func (b *box) expungeLocked(ctx context.Context, uid uint32) (bool, error) {
	for attempt := 0; ; attempt++ {
		i := b.index(uid)
		if i < 0 {
			return false, nil
		}
		m := b.msgs[i]
		if len(b.views) > 1 {
			b.datesLocked(m) // other views show it until they announce the expunge
		}
		err := b.d.fs.Remove(m.path(b.p.dir))
		if err == nil {
			b.ownChangeLocked(m.inNew)
			b.msgs = append(b.msgs[:i], b.msgs[i+1:]...)
			delete(b.fields, uid)
			b.bumpModseqLocked()
			b.goneLocked(m)
			b.changeSeq++
			return true, nil
		}
		if !isNotExist(err) || attempt > 0 {
			return false, osError("expunge", err)
		}
		b.dirty = true
		if err := b.refreshLocked(ctx); err != nil {
			return false, err
		}
	}
}

// Copy copies messages to another mailbox of the same user, by hard link
// when possible; with move the sources are expunged.
func (v *view) Copy(ctx context.Context, uids []uint32, dest string, move bool) (storage.CopyResult, error) {
	var res storage.CopyResult
	if move && v.ro {
		return res, v.readOnlyErr()
	}
	db, _, err := v.u.openBox(ctx, dest)
	if err != nil {
		if storage.KindOf(err) == storage.KindNotFound {
			return res, storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", dest)
		}
		return res, err
	}
	defer v.u.d.release(db)
	db.mu.Lock()
	err = db.ensureDirs()
	db.mu.Unlock()
	if err != nil {
		return res, err
	}
	srcs, ps, err := v.linkSources(ctx, db, uids)
	if err != nil {
		return res, err
	}
	if len(ps) == 0 {
		return storage.CopyResult{UIDValidity: v.destValidity(ctx, db)}, nil
	}
	req := &commitReq{ps: ps}
	if err := db.commit(ctx, req); err != nil {
		return storage.CopyResult{}, err
	}
	res.UIDValidity = req.uidv
	res.SrcUIDs, res.DstUIDs = srcs, req.uids
	if move {
		if err := v.Expunge(ctx, srcs); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (v *view) destValidity(ctx context.Context, db *box) uint32 {
	db.mu.Lock()
	defer db.mu.Unlock()
	_ = db.prepareSaveLocked(ctx, 0)
	return db.uidValidity
}

// linkSources makes tmp/ entries in the destination for each source
// message, carrying its flags and internal date.
func (v *view) linkSources(ctx context.Context, db *box, uids []uint32) ([]uint32, []pending, error) {
	type src struct {
		uid         uint32
		path        string
		size, vsize int64
		flags       []string
	}
	b := v.b
	b.mu.Lock()
	var srcs []src
	for _, uid := range sortedUIDs(uids) {
		if v.viewIndex(uid) < 0 {
			continue
		}
		if m := b.lookup(uid); m != nil {
			srcs = append(srcs, src{uid, m.path(b.p.dir), m.size, m.vsize, b.flagNamesLocked(m.flags)})
		}
	}
	b.mu.Unlock()
	var done []uint32
	var ps []pending
	for _, s := range srcs {
		p, err := db.linkTmp(s.path, s.size, s.vsize)
		if errors.Is(err, io.EOF) || (err != nil && isNotExist(err)) {
			// renamed or expunged meanwhile: find it again
			p, err = v.relink(ctx, db, s.uid)
			if err != nil && storage.KindOf(err) == storage.KindExpunged {
				continue
			}
		}
		if err != nil {
			db.discard(ps)
			return nil, nil, osError("copy message", err)
		}
		p.flags = s.flags
		done = append(done, s.uid)
		ps = append(ps, p)
	}
	return done, ps, nil
}

func (v *view) relink(ctx context.Context, db *box, uid uint32) (pending, error) {
	b := v.b
	b.mu.Lock()
	b.dirty = true
	err := b.refreshLocked(ctx)
	m := b.lookup(uid)
	var path string
	var size, vsize int64
	if m != nil {
		path, size, vsize = m.path(b.p.dir), m.size, m.vsize
	}
	b.mu.Unlock()
	if err != nil {
		return pending{}, err
	}
	if m == nil {
		return pending{}, storage.Errorf(storage.KindExpunged, "Message was expunged")
	}
	return db.linkTmp(path, size, vsize)
}
