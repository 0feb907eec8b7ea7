package maildir

import (
	"container/list"
	"context"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// Options configures a Driver.
type Options struct {
	FS       vfs.FS           // nil means vfs.OS{}
	Hostname string           // for unique file names; "" means os.Hostname
	Pid      int              // for unique file names; 0 means os.Getpid
	Now      func() time.Time // default clock when UserConfig.Now is nil
	// CacheBytes bounds the memory of mailbox states kept after their
	// last view closes (0 means DefaultCacheBytes, negative disables the
	// cache). Idle states are dropped least recently used first.
	CacheBytes int64
	// CacheBoxes bounds the number of idle mailbox states (each holds two
	// open index files); 0 means DefaultCacheBoxes.
	CacheBoxes int
}

// Defaults of the idle mailbox cache.
const (
	DefaultCacheBytes = 64 << 20
	DefaultCacheBoxes = 2000
)

// Driver is the maildir storage driver. It is shared by every session so
// that views of one mailbox share one in-process change tracker.
type Driver struct {
	fs   vfs.FS
	host string // escaped for file names
	pid  string
	now  func() time.Time
	// ownClock: Options.Now was given (tests); INTERNALDATE of a save
	// without a date then comes from it, not from the file's write time.
	ownClock bool

	uniq atomic.Uint64 // disambiguates unique names within a microsecond

	cacheBytes  int64
	cacheBoxes  int
	uidlistKeep int // uidlists with more records drop them after a sync (uidlist.dropRecs)

	mu        sync.Mutex      // guards following
	boxes     map[string]*box // by mail directory path, in use or idle
	idle      list.List       // of *box with refs == 0, most recent first
	idleBytes int64           // sum of box.idleCost over idle

	feeds feedTable // change feeds of watched users (feed.go)
}

var _ storage.Driver = (*Driver)(nil)

// New returns a Driver.
func New(opts Options) *Driver {
	d := &Driver{fs: opts.FS, now: opts.Now, boxes: map[string]*box{},
		cacheBytes: opts.CacheBytes, cacheBoxes: opts.CacheBoxes, uidlistKeep: uidlistKeepMax}
	if d.cacheBytes == 0 {
		d.cacheBytes = DefaultCacheBytes
	}
	if d.cacheBoxes == 0 {
		d.cacheBoxes = DefaultCacheBoxes
	}
	if d.fs == nil {
		d.fs = vfs.OS{}
	}
	if d.now == nil {
		d.now = time.Now
	} else {
		d.ownClock = true
	}
	host := opts.Hostname
	if host == "" {
		host, _ = os.Hostname()
	}
	d.host = escapeHost(host)
	pid := opts.Pid
	if pid == 0 {
		pid = os.Getpid()
	}
	d.pid = strconv.Itoa(pid)
	return d
}

// OpenUser opens one user's mail.
func (d *Driver) OpenUser(ctx context.Context, cfg storage.UserConfig) (storage.User, error) {
	u, err := d.openUser(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return feedUser{u}, nil
}

// Poll checks every mailbox that has open views for changes made by other
// processes (new files, renames, a rewritten dovecot-uidlist) and wakes
// their views' Notify channels when they have something to show
// (pollRefresh). The caller runs it periodically (one
// poller for the whole process, never one per session).
func (d *Driver) Poll(ctx context.Context) {
	d.mu.Lock()
	boxes := make([]*box, 0, len(d.boxes))
	for _, b := range d.boxes {
		if b.refs > 0 {
			boxes = append(boxes, b)
		}
	}
	d.mu.Unlock()
	for _, b := range boxes {
		if ctx.Err() != nil {
			return
		}
		if b.changedOnDisk() {
			b.pollRefresh(ctx)
		}
	}
	d.pollFeeds(ctx)
}

// pollRefresh refreshes a box whose directories changed and wakes its
// views only when they have something to show: a scan that finds only
// this process's own renames (new/ to cur/) or a directory still in its
// dirty window wakes nobody. The woken views take this refresh
// (SyncWoken). A box that cannot be refreshed wakes its views, which
// then report the error.
func (b *box) pollRefresh(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.views) == 0 {
		b.notifyLocked(nil) // the change feed only
		return
	}
	seq := b.changeSeq
	err := b.refreshLocked(ctx)
	if err == nil && b.changeSeq == seq {
		return
	}
	b.notifyLocked(nil)
	if err == nil {
		b.refreshGen = b.notifyGen
	}
}

// acquire returns the shared state of the mailbox at dir, creating it or
// taking it from the idle cache.
func (d *Driver) acquire(p boxPaths) *box {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.boxes[p.dir]
	if b == nil {
		b = newBox(d, p)
		d.boxes[p.dir] = b
	}
	if b.refs == 0 && b.idleElem != nil {
		d.idle.Remove(b.idleElem)
		d.idleBytes -= b.idleCost
		b.idleElem = nil
	}
	b.refs++
	return b
}

// release drops a reference taken by acquire. A box nobody uses stays
// cached (index open, state loaded) so that the next open only compares
// directory stamps; the least recently used idle boxes are closed when
// the cache is over its bounds.
func (d *Driver) release(b *box) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b.refs--
	if b.refs > 0 {
		return
	}
	if d.boxes[b.p.dir] != b || d.cacheBytes < 0 {
		d.closeBoxLocked(b)
		return
	}
	b.mu.Lock()
	b.idleCost = b.memCostLocked()
	// A box that only received saves (LMTP, APPEND to an unselected
	// mailbox) is worth keeping too: the next delivery then opens no
	// index, reads no uidlist, persists no new MODSEQ ceiling and makes
	// no directories.
	keep := (b.loaded || b.modseqInit || b.dirsMade) && !b.gone
	b.mu.Unlock()
	if !keep {
		d.closeBoxLocked(b)
		return
	}
	b.idleElem = d.idle.PushFront(b)
	d.idleBytes += b.idleCost
	for d.idle.Len() > 0 && (d.idleBytes > d.cacheBytes || d.idle.Len() > d.cacheBoxes) {
		old := d.idle.Remove(d.idle.Back()).(*box)
		old.idleElem = nil
		d.idleBytes -= old.idleCost
		d.closeBoxLocked(old)
	}
}

// Close flushes and closes every cached box no session holds (the index,
// and the exact HIGHESTMODSEQ, so that the next process goes on from it
// rather than from the top of the reserved block). The server calls it at
// shutdown, after its sessions ended; the Driver stays usable.
func (d *Driver) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.idle.Len() > 0 {
		old := d.idle.Remove(d.idle.Back()).(*box)
		old.idleElem = nil
		d.idleBytes -= old.idleCost
		d.closeBoxLocked(old)
	}
}

// closeBoxLocked drops an unused box: its index is flushed and closed.
func (d *Driver) closeBoxLocked(b *box) {
	if d.boxes[b.p.dir] == b {
		delete(d.boxes, b.p.dir)
	}
	b.mu.Lock()
	b.closeIndexLocked()
	b.trimModseqLocked()
	b.mu.Unlock()
}

// forget detaches the shared state of dir and everything under it (after
// delete or rename), so that later opens start fresh.
func (d *Driver) forget(dir string) {
	d.mu.Lock()
	var gone, idle []*box
	for k, b := range d.boxes {
		if k == dir || (len(k) > len(dir) && k[:len(dir)] == dir && k[len(dir)] == '/') {
			delete(d.boxes, k)
			if b.idleElem != nil {
				d.idle.Remove(b.idleElem)
				d.idleBytes -= b.idleCost
				b.idleElem = nil
				idle = append(idle, b)
				continue
			}
			gone = append(gone, b)
		}
	}
	d.mu.Unlock()
	for _, b := range idle {
		b.mu.Lock()
		b.gone = true
		b.closeIndexLocked()
		b.mu.Unlock()
	}
	for _, b := range gone {
		b.mu.Lock()
		b.gone = true
		b.mu.Unlock()
		b.notifyAll()
	}
}

// uniqueName returns a new Dovecot-style unique base:
// "<secs>.M<usecs>P<pid>.<host>" (maildir-filename.c). Uniqueness within
// this process comes from bumping the microseconds past the last value.
func (d *Driver) uniqueName(now time.Time) string {
	us := uint64(now.UnixMicro())
	for {
		last := d.uniq.Load()
		if us <= last {
			us = last + 1
		}
		if d.uniq.CompareAndSwap(last, us) {
			break
		}
	}
	secs, usec := us/1e6, us%1e6
	return strconv.FormatUint(secs, 10) + ".M" + strconv.FormatUint(usec, 10) + "P" + d.pid + "." + d.host
}
