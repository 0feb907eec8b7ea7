package maildir

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// pending is a message written to tmp/ and waiting to be committed.
type pending struct {
	tmp    string // path in tmp/
	size   int64
	vsize  int64
	flags  []string
	idate  time.Time
	linked bool      // tmp is a hard link to another message: keep its mtime
	data   []byte    // the stored (LF) content when it was written in one piece
	mtime  time.Time // the file's mtime after writing (zero: unknown)
}

// writeTmp writes body (size bytes, or -1 if unknown) to a new file in
// the mailbox's tmp/, converting CRLF to LF, and fsyncs it per
// mail_fsync.
func (b *box) writeTmp(body io.Reader, size int64) (pending, error) {
	tmp := filepath.Join(b.p.dir, "tmp", b.d.uniqueName(b.d.now()))
	f, err := b.d.fs.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil && isNotExist(err) && b.remakeTmp() {
		f, err = b.d.fs.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	}
	if err != nil {
		return pending{}, osError("create tmp file", err)
	}
	n := copyBufSize(size)
	lw := &lfWriter{w: f, buf: make([]byte, 0, n)}
	// Through Write, not the body's WriteTo (io.MultiReader's allocates a
	// 32 KiB buffer per part), and with a buffer sized by the message.
	_, err = io.CopyBuffer(lw, struct{ io.Reader }{body}, make([]byte, n))
	if err == nil {
		err = lw.flush()
	}
	if err == nil && b.fsyncOn() {
		err = f.Sync()
	}
	var mtime time.Time
	if fi, serr := f.Stat(); err == nil && serr == nil {
		mtime = fi.ModTime()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = b.d.fs.Remove(tmp)
		return pending{}, osError("save message", err)
	}
	p := pending{tmp: tmp, size: lw.size, vsize: lw.vsize, mtime: mtime}
	if lw.drains == 1 {
		p.data = lw.buf[:lw.size] // drained once, at flush: still whole
	}
	return p, nil
}

// copyBufSize is the read buffer for a message body of size bytes (-1 or
// 0 when unknown): the whole message when small, else 64 KiB.
func copyBufSize(size int64) int {
	const most = 64 * 1024
	if size > 0 && size < most {
		return int(size) + 1 // +1: the reader's EOF comes with no copy
	}
	return most
}

// linkTmp makes a tmp/ entry for an existing message file, by hard link
// when possible, else by copying.
func (b *box) linkTmp(src string, size, vsize int64) (pending, error) {
	tmp := filepath.Join(b.p.dir, "tmp", b.d.uniqueName(b.d.now()))
	err := b.d.fs.Link(src, tmp)
	if err != nil && isNotExist(err) && b.remakeTmp() {
		err = b.d.fs.Link(src, tmp)
	}
	if err == nil {
		return pending{tmp: tmp, size: size, vsize: vsize, linked: true}, nil
	} else if isNotExist(err) {
		return pending{}, err
	}
	f, err := b.d.fs.Open(src)
	if err != nil {
		return pending{}, err
	}
	defer f.Close()
	out, err := b.d.fs.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return pending{}, osError("create tmp file", err)
	}
	_, err = io.Copy(out, f)
	if err == nil && b.fsyncOn() {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = b.d.fs.Remove(tmp)
		return pending{}, osError("copy message", err)
	}
	return pending{tmp: tmp, size: size, vsize: vsize}, nil
}

// remakeTmp recreates a tmp/ that went missing while the box was cached
// (ensureDirs makes the subdirectories once); false if tmp/ is there.
func (b *box) remakeTmp() bool {
	if _, err := b.d.fs.Stat(filepath.Join(b.p.dir, "tmp")); !isNotExist(err) {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.dirsMade = false
	return b.ensureDirs() == nil
}

// remakeDirsLocked makes cur/ new/ tmp/ again after a save found one
// missing (removed behind the cached box's back); false if that fails.
func (b *box) remakeDirsLocked() bool {
	b.dirsMade = false
	return b.ensureDirs() == nil
}

func (b *box) discard(ps []pending) {
	for _, p := range ps {
		if p.tmp != "" {
			_ = b.d.fs.Remove(p.tmp)
		}
	}
}

// commitReq is one transaction's saves waiting for a group commit.
type commitReq struct {
	ps     []pending
	fields []map[string][]byte // cached fields per pending, nil entries allowed
	uids   []uint32            // result
	uidv   uint32              // result: UIDVALIDITY of the mailbox
	err    error
	done   bool // guarded by box.mu
}

// commit saves req's tmp files into the mailbox (DESIGN.md section 4,
// group commit): the request is queued, and whoever next holds the box
// lock commits every queued request at once, with one directory fsync
// and one dovecot-uidlist append for all of them. Concurrent deliveries
// to one mailbox thus share the expensive part. On error nothing of req
// stays visible; other requests of the batch are not affected by req's
// own errors (flags, keywords).
func (b *box) commit(ctx context.Context, req *commitReq) error {
	b.qmu.Lock()
	b.commitQ = append(b.commitQ, req)
	b.qmu.Unlock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if !req.done {
		b.qmu.Lock()
		batch := b.commitQ
		b.commitQ = nil
		b.qmu.Unlock()
		bctx := ctx
		if len(batch) > 1 {
			bctx = context.WithoutCancel(ctx) // others' saves must not fail with our client
		}
		b.commitBatchLocked(bctx, batch)
	}
	return req.err
}

// placedMsg is a message linked into new/ or cur/, owned by one request.
type placedMsg struct {
	m   *msg
	req *commitReq
	i   int // index in req.ps
}

// commitBatchLocked commits a batch of requests and notifies the views.
func (b *box) commitBatchLocked(ctx context.Context, batch []*commitReq) {
	defer b.adoptOwnLocked()
	finish := func(r *commitReq, err error) {
		if r.done {
			return
		}
		r.done, r.err = true, err
		b.discard(r.ps)
	}
	n := 0
	for _, r := range batch {
		n += len(r.ps)
	}
	if err := b.prepareSaveLocked(ctx, uint64(n)); err != nil {
		for _, r := range batch {
			finish(r, err)
		}
		return
	}
	placed := b.placeBatchLocked(ctx, batch, finish)
	if len(placed) == 0 {
		return
	}
	// Linked now, and in the state or removed again below either way.
	for _, pm := range placed {
		b.ownChangeLocked(pm.m.inNew)
	}
	if err := b.publishLocked(ctx, placed); err != nil {
		for _, pm := range placed {
			_ = b.d.fs.Remove(pm.m.path(b.p.dir))
			pm.req.uids = nil
			finish(pm.req, err)
		}
		return
	}
	for _, pm := range placed {
		pm.req.uids = append(pm.req.uids, pm.m.uid)
		if f := pm.req.fields; f != nil && f[pm.i] != nil {
			b.storeFieldsLocked(pm.m.uid, f[pm.i])
		}
	}
	for _, r := range batch {
		r.uidv = b.uidValidity
		finish(r, nil)
	}
	b.notifyLocked(nil)
}

// placeBatchLocked moves every request's tmp files to their final names;
// a request that fails is finished with its error and its files removed.
func (b *box) placeBatchLocked(ctx context.Context, batch []*commitReq, finish func(*commitReq, error)) []placedMsg {
	var placed []placedMsg
	for _, r := range batch {
		if r.done {
			continue
		}
		mark := len(placed)
		var err error
		for i, p := range r.ps {
			var fl flagSet
			if fl, err = b.flagSetLocked(ctx, p.flags, true); err != nil {
				break
			}
			var m *msg
			m, err = b.place(p, fl)
			if err != nil && isNotExist(err) && b.remakeDirsLocked() {
				m, err = b.place(p, fl)
			}
			if err != nil {
				break
			}
			r.ps[i].tmp = ""
			placed = append(placed, placedMsg{m: m, req: r, i: i})
		}
		if err != nil {
			for _, pm := range placed[mark:] {
				_ = b.d.fs.Remove(pm.m.path(b.p.dir))
			}
			placed = placed[:mark]
			finish(r, err)
		}
	}
	return placed
}

// publishLocked makes placed files durable and numbers them, as Dovecot
// does with mail_fsync = optimized or always (maildir-save.c): each file
// was fsynced before its rename; now the directories that changed (new/,
// cur/, only those) are fsynced while dovecot-uidlist gets the new lines
// (appended and fdatasynced under its lock, maildir-uidlist.c). The two
// run concurrently: a crash between them leaves either an unnumbered
// file (numbered on the next scan) or a UID without a file (never
// reused), and the client has been told neither.
func (b *box) publishLocked(ctx context.Context, placed []placedMsg) error {
	var syncErr error
	var wg sync.WaitGroup
	if b.p.fsync != storage.FsyncNever {
		newCh, curCh := false, false
		for _, pm := range placed {
			newCh = newCh || pm.m.inNew
			curCh = curCh || !pm.m.inNew
		}
		wg.Go(func() { syncErr = b.syncDirs(newCh, curCh) })
	}
	ms := make([]*msg, len(placed))
	for i, pm := range placed {
		ms[i] = pm.m
	}
	err := b.numberLocked(ctx, ms)
	wg.Wait()
	if err == nil {
		err = syncErr
	}
	if err != nil {
		return err
	}
	b.addSavedLocked(ms)
	return nil
}

func (b *box) syncDirs(newCh, curCh bool) error {
	for _, sub := range []struct {
		name string
		on   bool
	}{{"new", newCh}, {"cur", curCh}} {
		if !sub.on {
			continue
		}
		if err := b.d.fs.SyncDir(filepath.Join(b.p.dir, sub.name)); err != nil {
			return osError("fsync directory", err)
		}
	}
	return nil
}

// prepareSaveLocked makes sure the uidlist and keywords are known,
// without scanning a mailbox that is not loaded yet (delivery to a large
// mailbox must not stat every file).
func (b *box) prepareSaveLocked(ctx context.Context, n uint64) error {
	if err := b.ensureDirs(); err != nil {
		return err
	}
	ulPath := filepath.Join(b.p.control, uidlistName)
	if !b.ul.exists || !b.loaded {
		if err := b.rereadForSaveLocked(ulPath); err != nil {
			return err
		}
	}
	if !b.ul.exists || b.ul.uidValidity == 0 {
		if err := b.createUidlist(ctx); err != nil {
			return err
		}
	}
	if b.uidValidity == 0 {
		b.uidValidity = b.ul.uidValidity
	}
	if err := b.reserveModseqLocked(n); err != nil {
		return err
	}
	if b.loaded {
		return nil // the scans keep the keywords; a new one is read under its lock
	}
	return b.loadKeywordsLocked()
}

// rereadForSaveLocked reads dovecot-uidlist for a save into a mailbox no
// scan has loaded, when it changed since the box last read it (the box
// may have waited in the idle cache). A new UIDVALIDITY (the uidlist was
// recreated) starts the box over, as a scan would.
func (b *box) rereadForSaveLocked(ulPath string) error {
	if b.ul.exists {
		if st, err := statStamp(b.d.fs, ulPath); err == nil && st == b.ul.stamp() {
			return nil
		}
	}
	ul, err := readUidlist(b.d.fs, ulPath)
	if err != nil {
		return storage.Wrap(storage.KindInternal, "Internal error reading dovecot-uidlist", err)
	}
	if b.uidValidity != 0 && ul.uidValidity != b.uidValidity {
		b.resetLocked()
		b.uidValidity, b.nextUID, b.firstRecent, b.recentKnown = 0, 1, 1, false
	}
	b.ul = ul
	return nil
}

// place moves a tmp file to its final name; the caller clears the
// pending's tmp (nothing is left there to discard).
func (b *box) place(p pending, fl flagSet) (*msg, error) {
	idate := p.idate
	switch {
	case p.linked: // a copy keeps its source's date
		if fi, err := b.d.fs.Stat(p.tmp); err == nil {
			idate = fi.ModTime()
		} else if idate.IsZero() {
			idate = b.d.now()
		}
	case idate.IsZero() && !p.mtime.IsZero() && !b.d.ownClock:
		// no date asked for: the time the file was written, as it is
		// (a utime would dirty the inode again after its fsync)
		idate = p.mtime
	default:
		if idate.IsZero() {
			idate = b.d.now()
		}
		if err := b.d.fs.Chtimes(p.tmp, idate, idate); err != nil {
			return nil, osError("set internal date", err)
		}
	}
	for i := 0; ; i++ {
		base := b.d.uniqueName(b.d.now()) + ",S=" + strconv.FormatInt(p.size, 10) + ",W=" + strconv.FormatInt(p.vsize, 10)
		m := &msg{name: base, inNew: true, flags: fl, size: p.size, vsize: p.vsize,
			idate: idate.Unix(), sdate: b.d.now().Unix()}
		if fl != (flagSet{}) {
			m.inNew, m.name = false, fileNameFor(base, fl)
		}
		// Moved, not linked: the name is unique and never replaces a file
		// (Dovecot renames too, maildir-save.c); one call instead of a link
		// now and an unlink of the tmp file later.
		err := b.d.fs.MoveNoReplace(p.tmp, m.path(b.p.dir))
		if err == nil {
			return m, nil
		}
		if errors.Is(err, fs.ErrExist) && i < 10 {
			continue
		}
		return nil, osError("save message", err)
	}
}

// numberLocked gives placed files UIDs in dovecot-uidlist.
func (b *box) numberLocked(ctx context.Context, placed []*msg) error {
	ulPath := filepath.Join(b.p.control, uidlistName)
	lock, err := lockFile(ctx, b.lockOpts(), ulPath)
	if err != nil {
		return lockError(err)
	}
	defer lock.unlock()
	if err := b.rereadUidlistLocked(ulPath); err != nil {
		return err
	}
	if err := b.catchUpLocked(ctx); err != nil {
		return err
	}
	recs := make([]uidRec, len(placed))
	next := b.ul.nextUID
	for i, m := range placed {
		m.uid = next
		next++
		recs[i] = uidRec{uid: m.uid, base: m.base()}
	}
	if err := b.ul.appendRecs(b.d.fs, ulPath, recs, b.fsyncOn()); err != nil {
		return osError("append dovecot-uidlist", err)
	}
	b.ul.nextUID = next
	return nil
}

// addSavedLocked adds numbered, durable messages to the state and the
// index.
func (b *box) addSavedLocked(placed []*msg) {
	b.nextUID = max(b.nextUID, b.ul.nextUID)
	if !b.loaded && !b.recentKnown {
		b.learnRecentLocked(placed[0].uid)
	}
	defer b.modseqTxnLocked()()
	for _, m := range placed {
		b.bumpModseqLocked()
		m.modseq = b.highestModSeq
		b.insertLocked(m)
	}
	b.changeSeq++
	b.flushIndexLocked(nil)
}

// learnRecentLocked fixes where \Recent starts when a message is saved
// into a mailbox no session has loaded and whose index does not say:
// Dovecot gives \Recent to every message saved since the mailbox was last
// opened read-write, so the saved one is recent, and so is every message
// numbered before it that is still in new/ (the first load's rule, see
// initRecentLocked). The index keeps the answer for the next open.
func (b *box) learnRecentLocked(saved uint32) {
	first := saved
	names, err := b.d.fs.ReadDirNames(filepath.Join(b.p.dir, "new"))
	if err != nil || b.fullUidlistLocked() != nil {
		return // the first load decides
	}
	for _, n := range names {
		base, _, _ := splitName(n)
		if uid := b.ul.lookup(base); uid != 0 && uid < first {
			first = uid
		}
	}
	b.firstRecent, b.recentKnown = first, true
}

// catchUpLocked picks up files that other processes numbered after our
// last scan, so that our new UIDs never precede messages a view has yet
// to see.
func (b *box) catchUpLocked(ctx context.Context) error {
	if !b.loaded {
		return nil // the first full scan will find them
	}
	// UIDs below nextUID were accounted for by our last scan or save
	// (present, or expunged since: their uidlist lines stay until the
	// next rewrite and must not trigger a scan on every save).
	maxUID := b.nextUID - 1
	if len(b.msgs) > 0 {
		maxUID = max(maxUID, b.msgs[len(b.msgs)-1].uid)
	}
	if n := len(b.ul.recs); n == 0 || b.ul.recs[n-1].uid <= maxUID {
		return nil
	}
	found, err := b.readDirs()
	if err != nil {
		return err
	}
	have := b.basesLocked()
	for i := len(b.ul.recs) - 1; i >= 0 && b.ul.recs[i].uid > maxUID; i-- {
		r := b.ul.recs[i]
		if e, ok := found[r.base]; ok && !have[r.base] {
			b.insertLocked(b.newMsg(r.uid, r.base, e))
			have[r.base] = true
		}
	}
	return nil
}

// flagSetLocked converts flag names to a flagSet, adding keywords to
// dovecot-keywords when create is set.
func (b *box) flagSetLocked(ctx context.Context, names []string, create bool) (flagSet, error) {
	var fl flagSet
	for _, n := range names {
		if bit, ok := sysBit(n); ok {
			fl.sys |= bit
			continue
		}
		if len(n) > 0 && n[0] == '\\' {
			continue // \Recent and unknown system flags are not stored
		}
		idx, err := b.keywordLocked(ctx, n, create)
		if err != nil {
			return fl, err
		}
		if idx >= 0 {
			fl.kw |= 1 << idx
		}
	}
	return fl, nil
}

func sysBit(name string) (uint8, bool) {
	for _, s := range sysLetters {
		if equalFoldASCII(s.name, name) {
			return s.bit, true
		}
	}
	return 0, false
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// keywordLocked returns the letter index of keyword, adding it to
// dovecot-keywords under its lock when create is set; -1 if unknown.
func (b *box) keywordLocked(ctx context.Context, kw string, create bool) (int, error) {
	for i, k := range b.kw {
		if k == kw {
			return i, nil
		}
	}
	if !create {
		return -1, nil
	}
	path := filepath.Join(b.p.control, keywordsName)
	lock, err := lockFile(ctx, b.lockOpts(), path)
	if err != nil {
		return -1, lockError(err)
	}
	defer lock.unlock()
	cur, _, err := readKeywords(b.d.fs, path)
	if err != nil {
		return -1, storage.Wrap(storage.KindInternal, "Internal error reading dovecot-keywords", err)
	}
	free := -1
	for i, k := range cur {
		if k == kw {
			b.kw = cur
			b.flagNames = map[flagKey][]string{}
			return i, nil
		}
		if k == "" && free < 0 {
			free = i
		}
	}
	if free < 0 {
		return -1, storage.Errorf(storage.KindLimit, "Too many keywords in mailbox (max %d)", maxKeywords)
	}
	cur[free] = kw
	// Write through a separate temp name: the lock file itself is ours
	// and is removed by unlock.
	st, err := writeKeywordsTmp(b, path, cur)
	if err != nil {
		return -1, err
	}
	b.kw, b.kwStamp = cur, st
	b.flagNames = map[flagKey][]string{}
	return free, nil
}

func writeKeywordsTmp(b *box, path string, kw [maxKeywords]string) (stamp, error) {
	tmp := path + ".roosttmp"
	st, err := writeKeywordsAt(b, tmp, path, kw)
	if err != nil {
		_ = b.d.fs.Remove(tmp)
		return stamp{}, osError("write dovecot-keywords", err)
	}
	return st, nil
}

func writeKeywordsAt(b *box, tmp, path string, kw [maxKeywords]string) (stamp, error) {
	var data []byte
	for i, name := range kw {
		if name != "" {
			data = append(data, strconv.Itoa(i)+" "+name+"\n"...)
		}
	}
	if err := writeFileSync(b.d.fs, tmp, data, b.fsyncOn()); err != nil {
		return stamp{}, err
	}
	if err := b.d.fs.Rename(tmp, path); err != nil {
		return stamp{}, err
	}
	return statStamp(b.d.fs, path)
}

// Append saves a message into a mailbox.
func (u *user) Append(ctx context.Context, name string, am storage.AppendMessage) (storage.AppendResult, error) {
	b, _, err := u.openBox(ctx, name)
	if err != nil {
		return storage.AppendResult{}, err
	}
	defer u.d.release(b)
	b.mu.Lock()
	err = b.ensureDirs()
	b.mu.Unlock()
	if err != nil {
		return storage.AppendResult{}, err
	}
	p, err := b.writeTmp(am.Body, am.Size)
	if err != nil {
		return storage.AppendResult{}, err
	}
	p.flags, p.idate = am.Flags, am.InternalDate
	fields := b.computeFields(p) // outside the lock: parsing may be slow
	req := &commitReq{ps: []pending{p}, fields: []map[string][]byte{fields}}
	if err := b.commit(ctx, req); err != nil {
		return storage.AppendResult{}, err
	}
	return storage.AppendResult{UIDValidity: req.uidv, UID: req.uids[0]}, nil
}

// AppendDelivery files a delivered message (LMTP, LDA) durably into new/
// and leaves its UID to the next sync of the mailbox, as every outside
// writer does (Postfix virtual, procmail) and as Dovecot's LMTP does when
// the uidlist is locked (maildir-save.c, MAILDIR_UIDLIST_SYNC_TRYLOCK):
// the message file and new/ are fsynced per mail_fsync, and nothing else
// is written. The reader that next syncs numbers every delivered file at
// once, with one uidlist lock, append and fdatasync. A message with flags
// or a date takes Append.
func (u *user) AppendDelivery(ctx context.Context, name string, am storage.AppendMessage) error {
	if len(am.Flags) > 0 || !am.InternalDate.IsZero() {
		_, err := u.Append(ctx, name, am)
		return err
	}
	b, _, err := u.openBox(ctx, name)
	if err != nil {
		return err
	}
	defer u.d.release(b)
	b.mu.Lock()
	err = b.ensureDirs()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	p, err := b.writeTmp(am.Body, am.Size)
	if err != nil {
		return err
	}
	defer func() { b.discard([]pending{p}) }()
	m, err := b.place(p, flagSet{})
	if err != nil && isNotExist(err) {
		b.mu.Lock()
		ok := b.remakeDirsLocked()
		b.mu.Unlock()
		if ok {
			m, err = b.place(p, flagSet{})
		}
	}
	if err != nil {
		return err
	}
	p.tmp = ""
	if b.fsyncOn() {
		if err := b.syncDirs(true, false); err != nil {
			_ = b.d.fs.Remove(m.path(b.p.dir))
			return err
		}
	}
	b.notifyAll()
	return nil
}

// computeFields runs the user's FieldFunc on a saved file; nil when there
// is none or it fails (the fields are then computed on first use).
func (b *box) computeFields(p pending) map[string][]byte {
	if b.p.fields == nil {
		return nil
	}
	var f vfs.File = &memFile{Reader: bytes.NewReader(p.data), name: p.tmp}
	if int64(len(p.data)) != p.size {
		var err error
		if f, err = b.d.fs.Open(p.tmp); err != nil {
			return nil
		}
	}
	r, err := newCRLFReader(f, p.size, p.vsize)
	if err != nil {
		_ = f.Close()
		return nil
	}
	defer r.Close()
	fields, err := b.p.fields(r, r.Size())
	if err != nil {
		return nil
	}
	return fields
}

// memFile is a message still in memory, read as a vfs.File by the CRLF
// reader (computing the cached fields of a message just written).
type memFile struct {
	*bytes.Reader
	name string
}

func (m *memFile) Stat() (fs.FileInfo, error) { return memInfo{m}, nil }
func (m *memFile) Write([]byte) (int, error)  { return 0, fs.ErrPermission }
func (m *memFile) Close() error               { return nil }
func (m *memFile) Sync() error                { return nil }
func (m *memFile) Truncate(int64) error       { return fs.ErrPermission }
func (m *memFile) Name() string               { return m.name }

type memInfo struct{ m *memFile }

func (i memInfo) Name() string       { return filepath.Base(i.m.name) }
func (i memInfo) Size() int64        { return i.m.Reader.Size() }
func (i memInfo) Mode() fs.FileMode  { return 0o600 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
