package maildir

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"roost/internal/mailindex"
	"roost/internal/storage"
)

// dirtyWindow: a directory whose mtime is this recent may change again
// within the same timestamp, so it is read again once this long after
// its mtime even if its stamp is unchanged (Dovecot's maildir sync does
// the same, MAILDIR_SYNC_SECS).
const dirtyWindow = 2 * time.Second

// dirtyWindowFine replaces dirtyWindow for a directory whose mtime has a
// sub-second part (ext4, XFS, btrfs, tmpfs): the kernel stamps changes
// from its coarse clock, at most one tick (1-10 ms) behind the time read
// before the stat, so a change after a stat taken this long after the
// mtime always gets a later mtime.
const dirtyWindowFine = 50 * time.Millisecond

func dirtyWindowOf(st stamp) time.Duration {
	if st.mtime.Nanosecond() != 0 {
		return dirtyWindowFine
	}
	return dirtyWindow
}

// recentlyChanged reports whether a directory stamped st, stat'ed at now
// (read before the stat), may change again without its stamp changing.
func recentlyChanged(now time.Time, st stamp) bool {
	return now.Sub(st.mtime) < dirtyWindowOf(st)
}

// verifyTime is when a directory stamped st, stat'ed at now, has to be
// read again although its stamp did not change: zero when it was settled
// (no later change can keep its stamp), else the end of its dirty window.
func verifyTime(now time.Time, st stamp) time.Time {
	if !recentlyChanged(now, st) {
		return time.Time{}
	}
	return st.mtime.Add(dirtyWindowOf(st))
}

// due reports whether a verification time set by verifyTime has come.
func due(at, now time.Time) bool { return !at.IsZero() && !now.Before(at) }

// boxPaths locates one mailbox on disk.
type boxPaths struct {
	name    string // client-visible name, for messages
	dir     string // maildir: cur/ new/ tmp/
	control string // dovecot-uidlist, dovecot-keywords
	index   string // roost index directory; "" for none
	root    string // the namespace's mail root
	uidvDir string // where dovecot-uidvalidity lives (control root)
	fsync   storage.FsyncMode
	fields  storage.FieldFunc
	// lockLink: dot-locks are linked from a temporary file
	// (dotlock_use_excl = no) instead of created with O_EXCL.
	lockLink bool
}

// msg is one message of the shared mailbox state.
type msg struct {
	uid    uint32
	name   string // current file name; its base (up to ':') never changes
	inNew  bool   // in new/ rather than cur/
	flags  flagSet
	size   int64 // bytes on disk
	vsize  int64 // bytes in CRLF form (RFC822.SIZE)
	idate  int64 // internal date, unix seconds (file mtime); dateUnknown until read
	sdate  int64 // save date, unix seconds; dateUnknown with idate
	modseq uint64
}

// dateUnknown is the idate and sdate of a message whose file was not
// stat'ed yet: a scan takes the sizes from the file name (",S=", ",W="),
// as Dovecot does, and reads the dates when they are first asked for
// (datesLocked).
const dateUnknown = math.MinInt64

// base is the file name up to ':', which names the message for good.
func (m *msg) base() string {
	base, _, _ := splitName(m.name)
	return base
}

func (m *msg) path(dir string) string {
	if m.inNew {
		return filepath.Join(dir, "new", m.name)
	}
	return filepath.Join(dir, "cur", m.name)
}

// box is the state of one mailbox shared by all views in this process.
// Lock order: Driver.mu, then box.mu, then the dovecot-uidlist dotlock.
type box struct {
	d        *Driver
	p        boxPaths
	refs     int           // guarded by d.mu
	idleElem *list.Element // guarded by d.mu; in d.idle when refs == 0
	idleCost int64         // guarded by d.mu; memCostLocked when idle

	qmu     sync.Mutex   // guards commitQ; taken after mu, or alone
	commitQ []*commitReq // saves waiting for a group commit

	mu            sync.Mutex // guards following
	loaded        bool
	gone          bool
	uidValidity   uint32
	nextUID       uint32
	msgs          []*msg // ascending UID
	ul            *uidlist
	kw            [maxKeywords]string
	kwStamp       stamp
	highestModSeq uint64
	modseqCeil    uint64 // persisted ceiling, see modseq.go
	modseqInit    bool
	modseqOn      bool   // a client asked for MODSEQs (modseq.go)
	modseqFloor   uint64 // HIGHESTMODSEQ when that happened
	modseqTxn     bool   // changes share one MODSEQ (modseqTxnLocked)
	modseqBumped  bool
	changeSeq     uint64    // bumped by every change, for cheap view syncs
	notifyGen     uint64    // bumped by every notifyLocked
	refreshGen    uint64    // notifyGen when a view last refreshed the box from disk
	snap          *snapshot // msgs as view records at snap.seq, shared by views
	maybeNew      bool      // a message may be in new/ (moveNewLocked walks)
	firstRecent   uint32    // lowest UID not yet claimed as \Recent
	curStamp      stamp
	newStamp      stamp
	dirty         bool // the next refresh reads both directories
	dirsMade      bool // cur/ new/ tmp/ and the control dir were made
	// curVerify, newVerify: when cur/ (new/) must be read again although
	// its stamp is unchanged (verifyTime); zero when it was settled.
	curVerify, newVerify time.Time
	// ownCur, ownNew: the running operation changed cur/ (new/) itself
	// (ownChangeLocked, adoptOwnLocked).
	ownCur, ownNew bool
	// moved: new/ and cur/ as read by statMovedLocked since the last refresh.
	moved       map[string]dirEntry
	views       map[*view]struct{}
	fields      map[uint32]map[string][]byte
	ix          *mailindex.Index // nil without an index
	ixFailed    bool
	needRebuild bool
	recentKnown bool
	ixUp        map[uint32]struct{}
	ixAll       bool // more than checkpointUpserts changed: flush all
	ixExp       []uint32
	ixHist      []mailindex.Expunged // expunges with their MODSEQ, for the index's history
	flagNames   map[flagKey][]string
}

// flagKey keys the shared flag name lists: system and keyword bits (the
// table is emptied whenever the keyword names change).
type flagKey struct {
	sys uint8
	kw  uint32
}

func newBox(d *Driver, p boxPaths) *box {
	return &box{d: d, p: p, ul: newUidlist(),
		views: map[*view]struct{}{}, fields: map[uint32]map[string][]byte{},
		flagNames: map[flagKey][]string{}, nextUID: 1, firstRecent: 1}
}

// memCostLocked estimates the heap the box holds, for the idle cache.
func (b *box) memCostLocked() int64 {
	const perMsg = 250   // state and snapshot record of one message
	const perUidRec = 90 // a uidlist record kept in memory
	return 4096 + int64(len(b.msgs))*perMsg + int64(len(b.ul.recs))*perUidRec
}

func (b *box) notifyAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notifyLocked(nil)
}

// notifyLocked wakes every view except skip, and the user's change feed.
func (b *box) notifyLocked(skip *view) {
	b.d.feeds.publishMessages(b.p.root, b.p.name)
	b.notifyGen++
	for v := range b.views {
		if v == skip {
			continue
		}
		v.woken = b.notifyGen
		select {
		case v.notify <- struct{}{}:
		default:
		}
	}
}

// changedOnDisk reports whether another process may have changed the
// mailbox since the last scan.
func (b *box) changedOnDisk() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.loaded {
		return false
	}
	now := b.d.now()
	if b.dirty || b.ownCur || b.ownNew || due(b.curVerify, now) || due(b.newVerify, now) {
		return true
	}
	cur, err1 := statStamp(b.d.fs, filepath.Join(b.p.dir, "cur"))
	nw, err2 := statStamp(b.d.fs, filepath.Join(b.p.dir, "new"))
	ul, err3 := statStamp(b.d.fs, filepath.Join(b.p.control, uidlistName))
	if err1 != nil || err2 != nil || err3 != nil {
		return true
	}
	return cur != b.curStamp || nw != b.newStamp || ul != b.ul.stamp()
}

func (b *box) index(uid uint32) int {
	i := sort.Search(len(b.msgs), func(i int) bool { return b.msgs[i].uid >= uid })
	if i < len(b.msgs) && b.msgs[i].uid == uid {
		return i
	}
	return -1
}

// basesLocked returns the set of the messages' file base names, for the
// rare catch-up with other processes' saves (the box keeps no map by name).
func (b *box) basesLocked() map[string]bool {
	have := make(map[string]bool, len(b.msgs))
	for _, m := range b.msgs {
		have[m.base()] = true
	}
	return have
}

func (b *box) lookup(uid uint32) *msg {
	if i := b.index(uid); i >= 0 {
		return b.msgs[i]
	}
	return nil
}

// errMissing returns the error for a mailbox directory that is not there:
// UNAVAILABLE when the whole mail root is gone (unmounted storage),
// NOTFOUND otherwise. Never an empty mailbox.
func (b *box) errMissing() error {
	if _, err := b.d.fs.Stat(b.p.root); err != nil {
		return storage.Wrap(storage.KindUnavailable, "Mail storage is not available", err)
	}
	return storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", b.p.name)
}

// ensureDirs checks that the mailbox exists and creates missing cur/ new/
// tmp/ subdirectories (Dovecot does the same on access).
func (b *box) ensureDirs() error {
	if b.gone {
		return storage.Errorf(storage.KindNotFound, "Mailbox was deleted: %s", b.p.name)
	}
	if _, err := b.d.fs.Stat(b.p.dir); err != nil {
		b.dirsMade = false
		if errors.Is(err, fs.ErrNotExist) {
			return b.errMissing()
		}
		return osError("stat mailbox", err)
	}
	if b.dirsMade {
		return nil
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		p := filepath.Join(b.p.dir, sub)
		if err := b.d.fs.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return osError("create "+sub, err)
		}
	}
	if b.p.control != b.p.dir {
		if err := b.d.fs.MkdirAll(b.p.control, 0o700); err != nil {
			return osError("create control dir", err)
		}
	}
	b.dirsMade = true
	return nil
}

// refreshLocked brings the shared state up to date with the disk.
func (b *box) refreshLocked(ctx context.Context) error {
	if !b.dirsMade {
		// Once made, a removed mailbox shows as missing cur/ or new/ below.
		if err := b.ensureDirs(); err != nil {
			return err
		}
	} else if b.gone {
		return storage.Errorf(storage.KindNotFound, "Mailbox was deleted: %s", b.p.name)
	}
	now := b.d.now() // before the stats: see recentlyChanged
	curSt, err := statStamp(b.d.fs, filepath.Join(b.p.dir, "cur"))
	if err != nil {
		return osError("stat cur", err)
	}
	newSt, err := statStamp(b.d.fs, filepath.Join(b.p.dir, "new"))
	if err != nil {
		return osError("stat new", err)
	}
	if (!curSt.exists || !newSt.exists) && b.dirsMade {
		b.dirsMade = false // removed behind our back: make them again
		return b.refreshLocked(ctx)
	}
	ulPath := filepath.Join(b.p.control, uidlistName)
	ulSt, err := statStamp(b.d.fs, ulPath)
	if err != nil {
		return osError("stat uidlist", err)
	}
	b.ownCur, b.ownNew = false, false // not adopted by the operation: read below
	b.moved = nil                     // a listing for statMovedLocked lives for one command at most
	if b.loaded && !b.dirty && curSt == b.curStamp && newSt == b.newStamp && ulSt == b.ul.stamp() &&
		!due(b.curVerify, now) && !due(b.newVerify, now) {
		return nil
	}
	if !b.loaded || ulSt != b.ul.stamp() {
		ul, err := readUidlist(b.d.fs, ulPath)
		if err != nil {
			return storage.Wrap(storage.KindInternal, "Internal error reading dovecot-uidlist", err)
		}
		b.ul = ul
	}
	if !b.ul.exists || b.ul.uidValidity == 0 {
		if err := b.createUidlist(ctx); err != nil {
			return err
		}
	}
	if b.loaded && b.ul.uidValidity != b.uidValidity {
		b.resetLocked() // UIDVALIDITY changed under us: start over
	}
	b.uidValidity = b.ul.uidValidity
	if err := b.loadKeywordsLocked(); err != nil {
		return err
	}
	fresh := false
	if !b.loaded {
		b.initModseqLocked()
		fresh = b.seedFromIndexLocked(curSt, newSt, b.ul.stamp())
	}
	keepNew, keepCur := fresh, fresh
	if !fresh {
		// A directory whose stamp is unchanged and whose dirty window has
		// not ended holds the files the state has there: a session's own
		// flag change or save in cur/ reads cur/ only, a delivery to new/
		// reads new/ only.
		keepNew = b.loaded && !b.dirty && newSt == b.newStamp && !due(b.newVerify, now)
		keepCur = b.loaded && !b.dirty && curSt == b.curStamp && !due(b.curVerify, now)
		if err := b.scanLocked(ctx, keepNew, keepCur); err != nil {
			return err
		}
	}
	if !keepNew || fresh {
		b.newVerify = verifyTime(now, newSt)
	}
	if !keepCur || fresh {
		b.curVerify = verifyTime(now, curSt)
	}
	b.curStamp, b.newStamp = curSt, newSt
	b.dirty = false
	if !b.loaded {
		b.loaded = true
		if !b.recentKnown {
			b.initRecentLocked()
		}
		b.releaseIndexRecordsLocked()
	}
	if len(b.ul.recs) > b.d.uidlistKeep {
		b.ul.dropRecs()
	}
	var st []byte
	if b.curVerify.IsZero() && b.newVerify.IsZero() {
		st = encodeStamp(curSt, newSt, b.ul.stamp())
	} else if !fresh {
		st = []byte{}
	}
	b.flushIndexLocked(st)
	return nil
}

// adoptOwnLocked ends an operation that changed new/ or cur/ itself
// (flag renames, expunges, saves, moves from new/ to cur/, all applied to
// the state already): it takes the stamps of those directories instead of
// leaving them for the next refresh to read, as Dovecot's maildir sync
// takes cur/'s mtime after renaming files itself (maildir-sync-index.c).
// A change by another process between ours and the stat would hide
// behind the taken stamp, so the directory is read once more at the end
// of the stamp's dirty window (an earlier pending verification is kept):
// such a change shows at most that late, and a session that keeps
// changing a mailbox reads cur/ once per window instead of after every
// command.
func (b *box) adoptOwnLocked() {
	cur, nw := b.ownCur, b.ownNew
	b.ownCur, b.ownNew = false, false
	if !b.loaded || b.dirty {
		return
	}
	adopt := func(on bool, sub string, st *stamp, verify *time.Time) {
		if !on {
			return
		}
		got, err := statStamp(b.d.fs, filepath.Join(b.p.dir, sub))
		if err != nil || !got.exists {
			b.dirty = true
			return
		}
		*st = got
		if verify.IsZero() {
			*verify = got.mtime.Add(dirtyWindowOf(got))
		}
	}
	adopt(cur, "cur", &b.curStamp, &b.curVerify)
	adopt(nw, "new", &b.newStamp, &b.newVerify)
}

// ownChangeLocked records that this process changed new/ (inNew) or cur/
// under mu, with the state updated to match; the operation ends with
// adoptOwnLocked.
func (b *box) ownChangeLocked(inNew bool) {
	if inNew {
		b.ownNew = true
	} else {
		b.ownCur = true
	}
}

func (b *box) resetLocked() {
	b.dirty = true // the next scan reads both
	b.needRebuild = true
	b.msgs = nil
	b.fields = map[uint32]map[string][]byte{}
	b.bumpModseqLocked()
	b.changeSeq++
}

func (b *box) initRecentLocked() {
	b.firstRecent = b.nextUID
	for _, m := range b.msgs {
		if m.inNew {
			b.firstRecent = m.uid
			break
		}
	}
}

func (b *box) loadKeywordsLocked() error {
	p := filepath.Join(b.p.control, keywordsName)
	st, err := statStamp(b.d.fs, p)
	if err != nil {
		return osError("stat keywords", err)
	}
	if st == b.kwStamp && b.loaded {
		return nil
	}
	kw, st, err := readKeywords(b.d.fs, p)
	if err != nil {
		return storage.Wrap(storage.KindInternal, "Internal error reading dovecot-keywords", err)
	}
	if kw != b.kw {
		b.flagNames = map[flagKey][]string{}
	}
	b.kw, b.kwStamp = kw, st
	return nil
}

// dirEntry is a file found by a directory scan.
type dirEntry struct {
	name  string
	inNew bool
}

func (b *box) readDirs() (map[string]dirEntry, error) {
	return b.readDirsKeep(false, false)
}

// readDirsKeep reads new/ and cur/; with keepNew (keepCur), new/ (cur/)
// is taken from the state instead of read.
func (b *box) readDirsKeep(keepNew, keepCur bool) (map[string]dirEntry, error) {
	var subs []string
	if !keepNew {
		subs = append(subs, "new")
	}
	if !keepCur {
		subs = append(subs, "cur")
	}
	// new/ first, then cur/: a file moved from new/ to cur/ meanwhile is
	// then seen in cur/.
	read := make([][]string, len(subs))
	size := len(b.msgs)
	for i, sub := range subs {
		names, err := b.d.fs.ReadDirNames(filepath.Join(b.p.dir, sub))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, b.errMissing()
			}
			return nil, osError("read "+sub, err)
		}
		read[i] = names
		size += len(names)
	}
	found := make(map[string]dirEntry, size) // sized once: no rehash of a large mailbox
	for _, m := range b.msgs {
		if (keepNew && m.inNew) || (keepCur && !m.inNew) {
			found[m.base()] = dirEntry{name: m.name, inNew: m.inNew}
		}
	}
	for i, names := range read {
		for _, n := range names {
			if n == "" || n[0] == '.' {
				continue
			}
			base, _, _ := splitName(n)
			found[base] = dirEntry{name: n, inNew: subs[i] == "new"}
		}
	}
	return found, nil
}

// scanLocked reads new/ and cur/ and applies what changed: expunges,
// renames (flag changes) and new files, which get UIDs.
func (b *box) scanLocked(ctx context.Context, keepNew, keepCur bool) error {
	b.moved = nil
	defer b.modseqTxnLocked()()
	found, err := b.readDirsKeep(keepNew, keepCur)
	if err != nil {
		return err
	}
	missing := 0
	for _, m := range b.msgs {
		if _, ok := found[m.base()]; !ok {
			missing++
		}
	}
	if missing > 0 {
		// A concurrent rename may hide a file from one readdir: look again
		// before calling anything expunged.
		again, err := b.readDirs()
		if err != nil {
			return err
		}
		for k, e := range again {
			if _, ok := found[k]; !ok {
				found[k] = e
			}
		}
	}
	b.applyScanLocked(found)
	return b.addNewLocked(ctx, found)
}

// applyScanLocked drops messages whose files are gone and picks up
// renames; it removes the known files from found.
func (b *box) applyScanLocked(found map[string]dirEntry) {
	kept := b.msgs[:0]
	for _, m := range b.msgs {
		e, ok := found[m.base()]
		if !ok {
			delete(b.fields, m.uid)
			b.bumpModseqLocked()
			b.goneLocked(m)
			b.changeSeq++
			continue
		}
		delete(found, m.base())
		if e.name != m.name || e.inNew != m.inNew {
			_, letters, _ := splitName(e.name)
			nf := parseLetters(letters)
			m.name, m.inNew = e.name, e.inNew
			b.maybeNew = b.maybeNew || e.inNew
			b.touchLocked(m.uid)
			if nf != m.flags {
				m.flags = nf
				b.bumpModseqLocked()
				m.modseq = b.highestModSeq
				b.changeSeq++
			}
		}
		kept = append(kept, m)
	}
	for i := len(kept); i < len(b.msgs); i++ {
		b.msgs[i] = nil
	}
	b.msgs = kept
}

// addNewLocked adds files not yet in the state: those the uidlist already
// knows keep their UID; the rest get new UIDs under the uidlist lock.
func (b *box) addNewLocked(ctx context.Context, found map[string]dirEntry) error {
	if len(found) == 0 {
		b.nextUID = max(b.nextUID, b.ul.nextUID)
		return nil
	}
	if err := b.fullUidlistLocked(); err != nil {
		return err
	}
	var unknown []string
	var known []*msg
	for base := range found {
		if uid := b.ul.lookup(base); uid != 0 && b.lookup(uid) == nil {
			known = append(known, b.newMsg(uid, base, found[base]))
			continue
		}
		unknown = append(unknown, base)
	}
	b.mergeLocked(known)
	if len(unknown) > 0 {
		if err := b.assignLocked(ctx, unknown, found); err != nil {
			return err
		}
	}
	b.nextUID = max(b.nextUID, b.ul.nextUID)
	return nil
}

func (b *box) newMsg(uid uint32, base string, e dirEntry) *msg {
	_, letters, _ := splitName(e.name)
	m := &msg{uid: uid, name: e.name, inNew: e.inNew, flags: parseLetters(letters),
		idate: dateUnknown, sdate: dateUnknown}
	size, okS := sizeField(base, 'S')
	vsize, okW := sizeField(base, 'W')
	if !okW {
		vsize, okW = b.ulExtSize(base, 'W')
	}
	m.size, m.vsize = size, vsize
	if !okS || size == 0 || !okW {
		b.statMsg(m, !okS || size == 0)
		if !okW {
			m.vsize = b.computeVsize(m)
		}
	}
	b.bumpModseqLocked()
	m.modseq = b.highestModSeq
	b.changeSeq++
	return m
}

// statMsg reads the dates of m, and its size with withSize, from its file.
func (b *box) statMsg(m *msg, withSize bool) bool {
	fi, err := b.d.fs.Stat(m.path(b.p.dir))
	if err != nil {
		return false
	}
	m.idate = fi.ModTime().Unix()
	m.sdate = m.idate
	if withSize {
		m.size = fi.Size()
	}
	return true
}

// datesLocked returns the internal and save dates of m, reading them from
// the file the first time (dateUnknown); the index keeps them from then
// on. A file another process renamed since the last scan (a flag change)
// is found under its new name (statMovedLocked); one that is gone gives
// the delivery time at the head of its Maildir name, not kept.
func (b *box) datesLocked(m *msg) (idate, sdate int64) {
	if m.idate == dateUnknown {
		if !b.statMsg(m, false) && !b.statMovedLocked(m) {
			t := nameTime(m.base())
			return t, t
		}
		b.touchLocked(m.uid)
	}
	return m.idate, m.sdate
}

// statMovedLocked reads m's dates from its file under the name new/ or
// cur/ now has for its base. The directories are read once until the
// next refresh, however many messages of one command need it (a scan
// takes the new names and flags; the state keeps the old name until then).
func (b *box) statMovedLocked(m *msg) bool {
	if b.moved == nil {
		found, err := b.readDirs()
		if err != nil {
			return false
		}
		b.moved = found
	}
	e, ok := b.moved[m.base()]
	if !ok {
		return false
	}
	sub := "cur"
	if e.inNew {
		sub = "new"
	}
	fi, err := b.d.fs.Stat(filepath.Join(b.p.dir, sub, e.name))
	if err != nil {
		return false
	}
	m.idate = fi.ModTime().Unix()
	m.sdate = m.idate
	return true
}

// nameTime is the delivery time a Maildir unique name starts with
// ("1763791234.M…"), or 0.
func nameTime(base string) int64 {
	secs, _, _ := strings.Cut(base, ".")
	t, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || t < 0 {
		return 0
	}
	return t
}

func (b *box) ulExtSize(base string, key byte) (int64, bool) {
	i, ok := b.ul.byBase[base]
	if !ok {
		return 0, false
	}
	for _, e := range b.ul.recs[i].ext {
		if len(e) > 1 && e[0] == key {
			n, err := strconv.ParseInt(e[1:], 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

func (b *box) computeVsize(m *msg) int64 {
	f, err := b.d.fs.Open(m.path(b.p.dir))
	if err != nil {
		return m.size
	}
	defer f.Close()
	n, err := crlfSize(f)
	if err != nil {
		return m.size
	}
	return n
}

// mergeLocked adds many messages at once (one sort instead of one
// insertion each: a first open of a 100,000-message mailbox).
func (b *box) mergeLocked(ms []*msg) {
	if len(ms) == 0 {
		return
	}
	inOrder := len(b.msgs) == 0 || ms[0].uid > b.msgs[len(b.msgs)-1].uid
	for i := 1; inOrder && i < len(ms); i++ {
		inOrder = ms[i-1].uid < ms[i].uid
	}
	b.msgs = append(b.msgs, ms...)
	if !inOrder {
		sort.Slice(b.msgs, func(i, j int) bool { return b.msgs[i].uid < b.msgs[j].uid })
	}
	for _, m := range ms {
		b.maybeNew = b.maybeNew || m.inNew
		b.touchLocked(m.uid)
	}
}

func (b *box) insertLocked(m *msg) {
	i := sort.Search(len(b.msgs), func(i int) bool { return b.msgs[i].uid >= m.uid })
	b.msgs = append(b.msgs, nil)
	copy(b.msgs[i+1:], b.msgs[i:])
	b.msgs[i] = m
	b.maybeNew = b.maybeNew || m.inNew
	b.touchLocked(m.uid)
}

// assignLocked gives new UIDs to files no one has numbered yet, in
// Dovecot's order, and appends them to dovecot-uidlist.
func (b *box) assignLocked(ctx context.Context, bases []string, found map[string]dirEntry) error {
	ulPath := filepath.Join(b.p.control, uidlistName)
	lock, err := lockFile(ctx, b.lockOpts(), ulPath)
	if err != nil {
		return lockError(err)
	}
	defer lock.unlock()
	if err := b.rereadUidlistLocked(ulPath); err != nil {
		return err
	}
	if err := b.fullUidlistLocked(); err != nil {
		return err
	}
	order := sortedByName(bases)
	recs := make([]uidRec, 0, len(order))
	added := make([]*msg, 0, len(order))
	for _, base := range order {
		e := found[base]
		if uid := b.ul.lookup(base); uid != 0 {
			if b.lookup(uid) == nil {
				b.insertLocked(b.newMsg(uid, base, e))
			}
			continue
		}
		m := b.newMsg(b.ul.nextUID, base, e)
		b.ul.nextUID++
		recs = append(recs, uidRec{uid: m.uid, base: base, ext: sizeExt(base, m)})
		added = append(added, m)
	}
	if len(recs) == 0 {
		return nil
	}
	appendRecs := b.ul.appendRecs
	if len(b.ul.recs)+len(recs) > b.d.uidlistKeep {
		appendRecs = b.ul.appendRecsDrop // refreshLocked would drop them
	}
	if err := appendRecs(b.d.fs, ulPath, recs, b.fsyncOn()); err != nil {
		return osError("append dovecot-uidlist", err)
	}
	b.mergeLocked(added)
	return nil
}

// nameKey is the sortCmp key of one file name, parsed once: 32 bytes, so
// that sorting a first scan's 100,000 names moves little.
type nameKey struct {
	sec, usec uint64
	i         uint32 // index in bases
	restOff   uint32 // the base after the leading number starts here
	hasUs     bool
}

// sortedByName returns bases in Dovecot's numbering order of their file
// names (sortCmp), parsing each name once instead of per comparison.
func sortedByName(bases []string) []string {
	keys := make([]nameKey, len(bases))
	for i, base := range bases {
		sec, rest := leadingNumber(base)
		us, ok := usecs(rest)
		keys[i] = nameKey{sec: sec, usec: us, i: uint32(i), restOff: uint32(len(base) - len(rest)), hasUs: ok}
	}
	slices.SortFunc(keys, func(a, b nameKey) int {
		if a.sec != b.sec {
			return cmp.Compare(a.sec, b.sec)
		}
		if a.hasUs && b.hasUs && a.usec != b.usec {
			return cmp.Compare(a.usec, b.usec)
		}
		return strings.Compare(bases[a.i][a.restOff:], bases[b.i][b.restOff:])
	})
	sorted := make([]string, len(keys))
	for j, k := range keys {
		sorted[j] = bases[k.i]
	}
	return sorted
}

// sizeExt returns the uidlist extension fields for sizes the file name
// does not carry.
func sizeExt(base string, m *msg) []string {
	var ext []string
	if _, ok := sizeField(base, 'W'); !ok {
		ext = append(ext, "W"+strconv.FormatInt(m.vsize, 10))
	}
	if _, ok := sizeField(base, 'S'); !ok {
		ext = append(ext, "S"+strconv.FormatInt(m.size, 10))
	}
	return ext
}

// fullUidlistLocked reads the uidlist's records again if they were
// dropped (uidlist.dropRecs).
func (b *box) fullUidlistLocked() error {
	if !b.ul.partial {
		return nil
	}
	ul, err := readUidlist(b.d.fs, filepath.Join(b.p.control, uidlistName))
	if err != nil {
		return storage.Wrap(storage.KindInternal, "Internal error reading dovecot-uidlist", err)
	}
	if ul.uidValidity != b.ul.uidValidity {
		return storage.Errorf(storage.KindTemp, "UIDVALIDITY changed during sync, retry")
	}
	b.ul = ul
	return nil
}

func (b *box) rereadUidlistLocked(ulPath string) error {
	st, err := statStamp(b.d.fs, ulPath)
	if err != nil {
		return osError("stat uidlist", err)
	}
	if st == b.ul.stamp() {
		return nil
	}
	ul, err := readUidlist(b.d.fs, ulPath)
	if err != nil {
		return storage.Wrap(storage.KindInternal, "Internal error reading dovecot-uidlist", err)
	}
	if ul.uidValidity != b.ul.uidValidity && b.ul.uidValidity != 0 {
		return storage.Errorf(storage.KindTemp, "UIDVALIDITY changed during sync, retry")
	}
	b.ul = ul
	return nil
}

// createUidlist writes a new dovecot-uidlist with a fresh UIDVALIDITY.
func (b *box) createUidlist(ctx context.Context) error {
	ulPath := filepath.Join(b.p.control, uidlistName)
	lock, err := lockFile(ctx, b.lockOpts(), ulPath)
	if err != nil {
		return lockError(err)
	}
	defer lock.unlock()
	ul, err := readUidlist(b.d.fs, ulPath)
	if err != nil {
		return storage.Wrap(storage.KindInternal, "Internal error reading dovecot-uidlist", err)
	}
	if ul.exists && ul.uidValidity != 0 {
		b.ul = ul
		return nil
	}
	if ul.uidValidity == 0 {
		ul.uidValidity = nextUIDValidity(b.d.fs, b.p.uidvDir, b.d.now())
	}
	if err := ul.write(b.d.fs, ulPath, b.fsyncOn(), nil); err != nil {
		return osError("write dovecot-uidlist", err)
	}
	b.ul = ul
	return nil
}

// fsyncOn reports whether files are fsynced (mail_fsync != never).
func (b *box) fsyncOn() bool { return b.p.fsync != storage.FsyncNever }

// flagNamesLocked returns the sorted flag names of fs, shared between
// messages with the same flags.
func (b *box) flagNamesLocked(fs flagSet) []string {
	k := flagKey{sys: fs.sys, kw: fs.kw}
	if names, ok := b.flagNames[k]; ok {
		return names
	}
	names := []string{}
	for _, s := range sysLetters {
		if fs.sys&s.bit != 0 {
			names = append(names, s.name)
		}
	}
	for i := 0; i < maxKeywords; i++ {
		if fs.kw&(1<<i) != 0 && b.kw[i] != "" {
			names = append(names, b.kw[i])
		}
	}
	sort.Strings(names)
	b.flagNames[k] = names
	return names
}

func (b *box) messageLocked(m *msg) storage.Message {
	idate, sdate := b.datesLocked(m)
	return storage.Message{
		UID:          m.uid,
		Flags:        b.flagNamesLocked(m.flags),
		ModSeq:       m.modseq,
		InternalDate: time.Unix(idate, 0),
		SaveDate:     time.Unix(sdate, 0),
		Size:         m.vsize,
	}
}

// statusLocked is the mailbox status without view-specific \Recent.
func (b *box) statusLocked() storage.Status {
	st := b.headStatusLocked()
	for i, m := range b.msgs {
		if m.flags.sys&flagSeen == 0 {
			st.Unseen++
			if st.FirstUnseen == 0 {
				st.FirstUnseen = i + 1
			}
		}
		if m.uid >= b.firstRecent {
			st.Recent++
		}
		st.Size += m.vsize
	}
	return st
}

// headStatusLocked is the status without the per-message counts (a view
// counts its own).
func (b *box) headStatusLocked() storage.Status {
	st := storage.Status{UIDValidity: b.uidValidity, UIDNext: b.nextUID,
		Messages: len(b.msgs), HighestModSeq: max(b.highestModSeq, 1)}
	for _, k := range b.kw {
		if k != "" {
			st.Keywords = append(st.Keywords, k)
		}
	}
	sort.Strings(st.Keywords)
	return st
}

// osError maps a filesystem error to a storage error as Dovecot does:
// out of space or quota is NOQUOTA, permission is PERM, the rest internal.
func osError(op string, err error) error {
	var se *storage.Error
	if errors.As(err, &se) {
		return err
	}
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return storage.Wrap(storage.KindNoQuota, "Not enough disk space", fmt.Errorf("%s: %w", op, err))
	case errors.Is(err, fs.ErrPermission):
		return storage.Wrap(storage.KindPerm, "Permission denied", fmt.Errorf("%s: %w", op, err))
	case errors.Is(err, syscall.EIO), errors.Is(err, syscall.ESTALE):
		return storage.Wrap(storage.KindTemp, "Temporary failure, try again later", fmt.Errorf("%s: %w", op, err))
	}
	return storage.Wrap(storage.KindInternal, "Internal error occurred", fmt.Errorf("%s: %w", op, err))
}

func lockError(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return storage.Wrap(storage.KindTemp, "Operation canceled", err)
	}
	return osError("lock", err)
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
