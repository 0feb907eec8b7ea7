package maildir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"roost/internal/mailindex"
	"roost/internal/storage"
)

// The index (package mailindex) is a cache of the box state: records
// carry the file name, sizes, dates and MODSEQ of each message, and the
// header carries a stamp of cur/, new/ and dovecot-uidlist as last
// scanned. When the stamp still matches, opening a mailbox reads no
// directory and stats no file. When it does not, the scan reuses the
// records and stats only files it has not seen. Any index error drops the
// index files: the next open rebuilds them from the mail files.

const recInNew = 1 << 31 // Record.Flags bit: file is in new/

// checkpointUpserts: a flush that changes more records than this writes a
// checkpoint from the box's messages instead of a log transaction, and
// the changed messages are no longer listed one by one (box.ixAll).
const checkpointUpserts = 4096

// openIndexLocked opens the index if the mailbox has one.
func (b *box) openIndexLocked() {
	if b.ix != nil || b.p.index == "" || b.ixFailed || b.gone {
		return
	}
	ix, err := mailindex.Open(b.d.fs, b.p.index, mailindex.Options{Fsync: false})
	if err != nil && !errors.Is(err, mailindex.ErrCorrupt) {
		b.ixFailed = true
		return
	}
	if err != nil {
		b.needRebuild = true
	}
	b.ix = ix
	if b.loaded {
		b.releaseIndexRecordsLocked()
	}
}

// releaseIndexRecordsLocked makes the box's messages the index's records
// (one copy of per-message state): called once the box state is loaded,
// as from then on it reflects every change the index is told.
func (b *box) releaseIndexRecordsLocked() {
	if b.ix != nil {
		b.ix.ReleaseRecords(boxRecords{b})
	}
}

// boxRecords are a box's messages as index records, for a checkpoint
// (which runs under b.mu, inside flushIndexLocked).
type boxRecords struct{ b *box }

func (r boxRecords) NumRecords() int                 { return len(r.b.msgs) }
func (r boxRecords) RecordAt(i int) mailindex.Record { return recordFromMsg(r.b.msgs[i]) }

// dropIndexLocked closes and removes a failing index; it is rebuilt on
// the next open.
func (b *box) dropIndexLocked() {
	if b.ix != nil {
		_ = b.ix.Close()
		b.ix = nil
	}
	for _, f := range []string{mailindex.IndexFile, mailindex.LogFile, mailindex.CacheFile} {
		_ = b.d.fs.Remove(filepath.Join(b.p.index, f))
	}
	b.ixFailed = true
}

func encodeStamp(cur, nw, ul stamp) []byte {
	return fmt.Appendf(nil, "%d.%d.%d.%d|%d.%d.%d.%d|%d.%d.%d.%d",
		cur.mtime.UnixNano(), cur.size, cur.ino, b2i(cur.exists),
		nw.mtime.UnixNano(), nw.size, nw.ino, b2i(nw.exists),
		ul.mtime.UnixNano(), ul.size, ul.ino, b2i(ul.exists))
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// seedFromIndexLocked loads the state from the index; it reports whether
// the index is in step with the disk (no scan needed).
func (b *box) seedFromIndexLocked(cur, nw, ul stamp) bool {
	if b.ix == nil || b.needRebuild {
		return false
	}
	h := b.ix.Header()
	if h.UIDValidity == 0 || h.UIDValidity != b.ul.uidValidity {
		b.needRebuild = h.UIDValidity != 0
		return false
	}
	var add []*msg
	for _, r := range b.ix.Records() {
		if b.lookup(r.UID) == nil {
			add = append(add, msgFromRecord(r))
		}
	}
	b.mergeLocked(add)
	b.ixUp, b.ixAll = nil, false // seeded records are already in the index
	b.highestModSeq = max(b.highestModSeq, h.HighestModSeq)
	b.nextUID = max(b.nextUID, h.UIDNext, b.ul.nextUID)
	if h.FirstRecentUID != 0 && !b.recentKnown {
		b.firstRecent = h.FirstRecentUID
		b.recentKnown = true
	}
	b.changeSeq++
	return len(h.Stamp) > 0 && bytes.Equal(h.Stamp, encodeStamp(cur, nw, ul))
}

func msgFromRecord(r mailindex.Record) *msg {
	_, letters, _ := splitName(r.Name)
	return &msg{uid: r.UID, name: r.Name, inNew: r.Flags&recInNew != 0,
		flags: parseLetters(letters), size: r.Size, vsize: r.VSize,
		idate: r.InternalDate, sdate: r.SaveDate, modseq: r.ModSeq}
}

func recordFromMsg(m *msg) mailindex.Record {
	r := mailindex.Record{UID: m.uid, Flags: uint32(m.flags.sys), Keywords: uint64(m.flags.kw),
		ModSeq: m.modseq, InternalDate: m.idate, SaveDate: m.sdate, Size: m.size, VSize: m.vsize, Name: m.name}
	if m.inNew {
		r.Flags |= recInNew
	}
	return r
}

// touchLocked records that a message changed, for the next index flush.
// Past checkpointUpserts messages it records that all may have (ixAll).
func (b *box) touchLocked(uid uint32) {
	if b.ixAll {
		return
	}
	if len(b.ixUp) >= checkpointUpserts {
		b.ixUp, b.ixAll = nil, true
		return
	}
	if b.ixUp == nil {
		b.ixUp = map[uint32]struct{}{}
	}
	b.ixUp[uid] = struct{}{}
}

// goneLocked records that m left the box with the current MODSEQ: the
// index drops it and remembers the expunge (QRESYNC), and views that
// still show it keep its last state until they announce the expunge.
func (b *box) goneLocked(m *msg) {
	delete(b.ixUp, m.uid)
	b.ixExp = append(b.ixExp, m.uid)
	b.ixHist = append(b.ixHist, mailindex.Expunged{UID: m.uid, ModSeq: b.highestModSeq})
	for v := range b.views {
		if v.viewIndex(m.uid) >= 0 {
			v.gone[m.uid] = m
		}
	}
}

// flushIndexLocked writes pending changes to the index. stamp is the new
// disk stamp after a scan, or nil to keep the old one.
func (b *box) flushIndexLocked(stamp []byte) {
	b.openIndexLocked()
	if b.ix == nil {
		b.ixUp, b.ixAll, b.ixExp, b.ixHist = nil, false, nil, nil
		return
	}
	h := b.ix.Header()
	if stamp != nil && bytes.Equal(stamp, h.Stamp) {
		stamp = nil
	}
	if stamp == nil && len(b.ixUp) == 0 && !b.ixAll && len(b.ixExp) == 0 && !b.needRebuild && h.HighestModSeq == b.highestModSeq {
		return
	}
	nh := mailindex.Header{UIDValidity: b.uidValidity, UIDNext: b.nextUID, HighestModSeq: max(b.highestModSeq, h.HighestModSeq),
		FirstRecentUID: h.FirstRecentUID, Stamp: h.Stamp}
	if b.loaded || b.recentKnown {
		nh.FirstRecentUID = b.firstRecent
	}
	if stamp != nil {
		nh.Stamp = stamp
	}
	var err error
	if (b.needRebuild || h.UIDValidity != b.uidValidity) && b.loaded {
		err = b.ix.RebuildFromSource(nh) // the box's messages (releaseIndexRecordsLocked)
		b.needRebuild = false
	} else if b.needRebuild || h.UIDValidity != b.uidValidity {
		recs := make([]mailindex.Record, len(b.msgs))
		for i, m := range b.msgs {
			recs[i] = recordFromMsg(m)
		}
		err = b.ix.Rebuild(nh, recs)
		b.needRebuild = false
	} else if b.ixAll && b.loaded {
		// Many changed records (the dates of a whole mailbox read at
		// once): a checkpoint writes the box's messages without a
		// transaction holding a copy of each.
		err = b.ix.Commit(&mailindex.Tx{Header: &nh, Expunges: b.ixExp, Expunged: b.ixHist})
		if err == nil {
			err = b.ix.Checkpoint()
		}
	} else {
		tx := &mailindex.Tx{Header: &nh, Expunges: b.ixExp, Expunged: b.ixHist}
		for uid := range b.ixUp {
			if m := b.lookup(uid); m != nil {
				tx.Upserts = append(tx.Upserts, recordFromMsg(m))
			}
		}
		if b.ixAll { // the index still holds its own records: upsert all
			for _, m := range b.msgs {
				tx.Upserts = append(tx.Upserts, recordFromMsg(m))
			}
		}
		err = b.ix.Commit(tx)
	}
	b.ixUp, b.ixAll, b.ixExp, b.ixHist = nil, false, nil, nil
	if err != nil {
		b.dropIndexLocked()
	}
}

// closeIndexLocked closes the index when the last user of the box goes.
func (b *box) closeIndexLocked() {
	if b.ix != nil {
		if !b.gone {
			b.flushIndexLocked(nil)
		}
		if b.ix != nil {
			_ = b.ix.Close()
			b.ix = nil
		}
	}
}

// cachedFieldsLocked returns cached fields of uid from the index.
func (b *box) cachedFieldLocked(uid uint32, name string) ([]byte, bool, bool) {
	if fields, ok := b.fields[uid]; ok {
		v, ok := fields[name]
		return v, ok, true
	}
	b.openIndexLocked()
	if b.ix == nil || !b.ix.HasFields(uid) {
		return nil, false, false
	}
	v, ok, err := b.ix.Field(uid, name)
	if err != nil {
		return nil, false, false
	}
	return v, ok, ok || b.ix.HasFields(uid)
}

// storeFieldsLocked caches fields of uid in the index (or in memory when
// the mailbox has no index).
func (b *box) storeFieldsLocked(uid uint32, fields map[string][]byte) {
	b.openIndexLocked()
	if b.ix != nil {
		if err := b.ix.PutFields(uid, fields); err == nil {
			return
		}
	}
	b.fields[uid] = fields
}

var _ storage.ExpungeHistory = (*view)(nil)

// ExpungedSince implements storage.ExpungeHistory from the index's
// expunge history (mailindex keeps the last MaxHistory expunges). A
// mailbox without an index, or whose index was rebuilt after modseq,
// answers ok false.
func (v *view) ExpungedSince(_ context.Context, modseq uint64) ([]uint32, bool, error) {
	b := v.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushIndexLocked(nil)
	if b.ix == nil {
		return nil, false, nil
	}
	uids, ok := b.ix.ExpungedSince(modseq)
	return uids, ok, nil
}
