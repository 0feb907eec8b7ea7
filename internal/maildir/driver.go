package maildir

import (
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
}

// Driver is the maildir storage driver. It is shared by every session so
// that views of one mailbox share one in-process change tracker.
type Driver struct {
	fs   vfs.FS
	host string // escaped for file names
	pid  string
	now  func() time.Time

	uniq atomic.Uint64 // disambiguates unique names within a microsecond

	mu    sync.Mutex      // guards following
	boxes map[string]*box // by mail directory path
}

var _ storage.Driver = (*Driver)(nil)

// New returns a Driver.
func New(opts Options) *Driver {
	d := &Driver{fs: opts.FS, now: opts.Now, boxes: map[string]*box{}}
	if d.fs == nil {
		d.fs = vfs.OS{}
	}
	if d.now == nil {
		d.now = time.Now
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
	return d.openUser(ctx, cfg)
}

// Poll checks every mailbox that has open views for changes made by other
// processes (new files, renames, a rewritten dovecot-uidlist) and wakes
// their views' Notify channels. The caller runs it periodically (one
// poller for the whole process, never one per session).
func (d *Driver) Poll(ctx context.Context) {
	d.mu.Lock()
	boxes := make([]*box, 0, len(d.boxes))
	for _, b := range d.boxes {
		boxes = append(boxes, b)
	}
	d.mu.Unlock()
	for _, b := range boxes {
		if ctx.Err() != nil {
			return
		}
		if b.changedOnDisk() {
			b.notifyAll()
		}
	}
}

// acquire returns the shared state of the mailbox at dir, creating it.
func (d *Driver) acquire(p boxPaths) *box {
	d.mu.Lock()
	defer d.mu.Unlock()
	b := d.boxes[p.dir]
	if b == nil {
		b = newBox(d, p)
		d.boxes[p.dir] = b
	}
	b.refs++
	return b
}

// release drops a reference taken by acquire.
func (d *Driver) release(b *box) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b.refs--
	if b.refs == 0 {
		if d.boxes[b.p.dir] == b {
			delete(d.boxes, b.p.dir)
		}
		b.mu.Lock()
		b.closeIndexLocked()
		b.mu.Unlock()
	}
}

// forget detaches the shared state of dir and everything under it (after
// delete or rename), so that later opens start fresh.
func (d *Driver) forget(dir string) {
	d.mu.Lock()
	var gone []*box
	for k, b := range d.boxes {
		if k == dir || (len(k) > len(dir) && k[:len(dir)] == dir && k[len(dir)] == '/') {
			delete(d.boxes, k)
			gone = append(gone, b)
		}
	}
	d.mu.Unlock()
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
