package mailindex

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"roost/internal/vfs"
)

const cacheMagic = "RIC1"

// compactMinWaste is the dead space below which the cache is never
// compacted.
const compactMinWaste = 64 * 1024

// cache is the field cache file: one checksummed frame per message holding
// all its fields, appended; an in-memory table maps UIDs to frames.
type cache struct {
	fsys vfs.FS
	path string
	sync bool
	f    vfs.File
	size int64
	dead int64
	// locs locates the frames, sorted by UID (one table, 32 B a message):
	// a put of a new highest UID appends, a replacement updates in place,
	// a drop leaves a hole (n == 0, counted in holes); a put of a new UID
	// below the highest goes to extra until the next merge (sortOrder).
	locs  []uidLoc
	holes int
	extra map[uint32]frameLoc
	hot   hotStore // values of HotSuffix fields (frameLoc.hot), append-only
}

type uidLoc struct {
	uid uint32
	loc frameLoc
}

type frameLoc struct {
	off int64
	n   int64 // frame length including the 8-byte frame header
	// hot is 1 + the offset in cache.hot of the frame's HotSuffix field,
	// 0 when it has none; hotN is that value's length.
	hot, hotN uint32
}

// HotSuffix ends the name of a field that whole-mailbox passes read for
// every message (SORT and THREAD keys): small, one per message. The cache
// keeps such values in memory too, so Field and ScanField of them do no
// I/O; the file stays the copy that survives a restart.
const HotSuffix = ".keys"

// keepHot copies the hot field of an encoded field list into c.hot.
func (c *cache) keepHot(fields []byte) (hot, n uint32) {
	d := decoder{b: fields}
	count := d.u32()
	for i := uint32(0); i < count && d.err == nil; i++ {
		k, v := d.span(), d.span()
		if d.err == nil && strings.HasSuffix(string(k), HotSuffix) {
			return c.appendHot(v)
		}
	}
	return 0, 0
}

func (c *cache) appendHot(v []byte) (hot, n uint32) { return c.hot.add(v) }

// hotValue is the in-memory copy of loc's hot field.
func (c *cache) hotValue(loc frameLoc) []byte { return c.hot.value(loc.hot, loc.hotN) }

// hotChunk is the size of the blocks the hot values are kept in: a value
// is never moved once stored, and the store holds at most one partly
// filled block, where one growing slice would copy itself and keep up
// to a quarter of its size unused.
const hotChunk = 64 << 10

// hotStore keeps values in blocks of hotChunk bytes, each value inside
// one block (a larger one gets a block of its own size and the slots its
// length covers). A value is named by 1 + its offset in the sequence of
// block slots.
type hotStore struct {
	chunks [][]byte
	size   uint64 // next free offset
}

// add stores v and returns its name and length; 0, 0 when the store is
// full (the value is then read from the file).
func (h *hotStore) add(v []byte) (hot, n uint32) {
	off := h.size
	if in := off % hotChunk; in != 0 && in+uint64(len(v)) > hotChunk {
		off += hotChunk - in // start the next block
	}
	end := off + uint64(len(v))
	if end >= math.MaxUint32-1 {
		return 0, 0
	}
	k := int(off / hotChunk)
	for len(h.chunks) <= k {
		h.chunks = append(h.chunks, nil)
	}
	if h.chunks[k] == nil {
		h.chunks[k] = make([]byte, 0, max(hotChunk, len(v)))
	}
	h.chunks[k] = append(h.chunks[k], v...)
	h.size = end
	if len(v) > hotChunk { // its block covers the following slots too
		h.size = (end + hotChunk - 1) / hotChunk * hotChunk
	}
	return uint32(off) + 1, uint32(len(v))
}

// value returns the value named hot, n bytes long.
func (h *hotStore) value(hot, n uint32) []byte {
	off := uint64(hot - 1)
	b := h.chunks[off/hotChunk]
	i := off % hotChunk
	return b[i : i+uint64(n) : i+uint64(n)]
}

func openCache(fsys vfs.FS, path string, sync bool) (*cache, error) {
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open field cache: %w", err)
	}
	c := &cache{fsys: fsys, path: path, sync: sync, f: f}
	if err := c.load(); err != nil {
		f.Close()
		return nil, err
	}
	return c, nil
}

// loadBuffer is the read-ahead of load: the file is read in one pass
// without holding it in memory.
const loadBuffer = 1 << 20

// load indexes the frames; a bad magic empties the file, a torn or
// corrupt frame cuts the file there.
func (c *cache) load() error {
	fi, err := c.f.Stat()
	if err != nil {
		return fmt.Errorf("stat field cache: %w", err)
	}
	size := fi.Size()
	r := bufio.NewReaderSize(io.NewSectionReader(c.f, 0, size), loadBuffer)
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil && !isEOF(err) {
		return fmt.Errorf("read field cache: %w", err)
	} else if err != nil || string(magic[:]) != cacheMagic {
		return c.reset()
	}
	good := int64(4)
	var head [8]byte
	var payload []byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			if !isEOF(err) {
				return fmt.Errorf("read field cache: %w", err)
			}
			break
		}
		n := int64(binary.LittleEndian.Uint32(head[:]))
		if n < 4 || n > size-good-8 {
			break
		}
		if int64(cap(payload)) < n {
			payload = make([]byte, n)
		}
		payload = payload[:n]
		if _, err := io.ReadFull(r, payload); err != nil {
			if !isEOF(err) {
				return fmt.Errorf("read field cache: %w", err)
			}
			break
		}
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(head[4:]) {
			break
		}
		uid := binary.LittleEndian.Uint32(payload)
		loc := frameLoc{off: good, n: 8 + n}
		loc.hot, loc.hotN = c.keepHot(payload[4:])
		c.set(uid, loc)
		good += 8 + n
	}
	c.sortOrder()
	if good != size {
		if err := c.f.Truncate(good); err != nil {
			return fmt.Errorf("truncate field cache: %w", err)
		}
	}
	c.size = good
	_, err = c.f.Seek(c.size, io.SeekStart)
	return err
}

func isEOF(err error) bool { return err == io.EOF || err == io.ErrUnexpectedEOF }

func (c *cache) reset() error {
	if err := c.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate field cache: %w", err)
	}
	if _, err := c.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := c.f.Write([]byte(cacheMagic)); err != nil {
		return fmt.Errorf("write field cache: %w", err)
	}
	c.size, c.dead, c.locs, c.holes, c.extra, c.hot = 4, 0, nil, 0, nil, hotStore{}
	return nil
}

func (c *cache) close() error { return c.f.Close() }

// empty reports whether no message has cached fields.
func (c *cache) empty() bool { return len(c.locs) == c.holes && len(c.extra) == 0 }

func (c *cache) has(uid uint32) bool {
	_, ok := c.lookup(uid)
	return ok
}

// search returns the index of uid in locs, or where it would go.
func (c *cache) search(uid uint32) (int, bool) {
	i := sort.Search(len(c.locs), func(k int) bool { return c.locs[k].uid >= uid })
	return i, i < len(c.locs) && c.locs[i].uid == uid && c.locs[i].loc.n != 0
}

// lookup returns the frame of uid.
func (c *cache) lookup(uid uint32) (frameLoc, bool) {
	if loc, ok := c.extra[uid]; ok {
		return loc, true
	}
	if i, ok := c.search(uid); ok {
		return c.locs[i].loc, true
	}
	return frameLoc{}, false
}

// set makes loc the frame of uid; a frame it replaces is dead space.
func (c *cache) set(uid uint32, loc frameLoc) {
	if old, ok := c.extra[uid]; ok {
		c.dead += old.n
		c.extra[uid] = loc
		return
	}
	n := len(c.locs)
	if n == 0 || c.locs[n-1].uid < uid {
		c.locs = append(c.locs, uidLoc{uid, loc})
		return
	}
	i, ok := c.search(uid)
	switch {
	case ok:
		c.dead += c.locs[i].loc.n
		c.locs[i].loc = loc
	case i < n && c.locs[i].uid == uid: // a hole
		c.locs[i].loc = loc
		c.holes--
	default:
		if c.extra == nil {
			c.extra = map[uint32]frameLoc{}
		}
		c.extra[uid] = loc
	}
}

func (c *cache) get(uid uint32, name string) ([]byte, bool, error) {
	loc, ok := c.lookup(uid)
	if !ok {
		return nil, false, nil
	}
	if strings.HasSuffix(name, HotSuffix) && loc.hot != 0 {
		return c.hotValue(loc), true, nil
	}
	buf := make([]byte, loc.n)
	if _, err := c.f.ReadAt(buf, loc.off); err != nil {
		return nil, false, fmt.Errorf("read field cache: %w", err)
	}
	v, ok, good := frameField(buf, name)
	if !good {
		c.drop(uid)
		return nil, false, nil // corrupt: recompute
	}
	return v, ok, nil
}

// scanWindow is how much of the cache file one read of scan covers.
const scanWindow = 256 << 10

// scan calls fn with field name of each of uids, in order, reading the
// file in windows of scanWindow bytes: frames are appended in UID order
// (and compacted in UID order), so a pass over a mailbox reads the file
// about sequentially, one read per window instead of one per message.
// found is false when uid has no frame or its frame lacks the field; v
// aliases a buffer reused by the next call.
func (c *cache) scan(uids []uint32, name string, fn func(i int, v []byte, found bool)) error {
	var buf []byte
	bufOff := int64(-1)
	c.sortOrder()
	order, j := c.locs, 0
	hot := strings.HasSuffix(name, HotSuffix)
	for i, uid := range uids {
		loc, ok := locate(order, uid, &j)
		if !ok {
			fn(i, nil, false)
			continue
		}
		if hot && loc.hot != 0 {
			fn(i, c.hotValue(loc), true)
			continue
		}
		if bufOff < 0 || loc.off < bufOff || loc.off+loc.n > bufOff+int64(len(buf)) {
			n := min(max(loc.n, scanWindow), c.size-loc.off)
			if int64(cap(buf)) < n {
				buf = make([]byte, n)
			}
			buf = buf[:n]
			if _, err := c.f.ReadAt(buf, loc.off); err != nil && err != io.EOF {
				return fmt.Errorf("read field cache: %w", err)
			}
			bufOff = loc.off
		}
		v, found, good := frameField(buf[loc.off-bufOff:loc.off-bufOff+loc.n], name)
		if !good {
			c.drop(uid)
		}
		fn(i, v, found)
	}
	return nil
}

// sortOrder merges extra into locs and closes the holes: locs then
// holds every frame, in UID order.
func (c *cache) sortOrder() {
	if len(c.extra) == 0 && c.holes == 0 {
		return
	}
	live := len(c.locs) - c.holes + len(c.extra)
	merged := make([]uidLoc, 0, live)
	for _, l := range c.locs {
		if l.loc.n != 0 {
			merged = append(merged, l)
		}
	}
	for uid, loc := range c.extra {
		merged = append(merged, uidLoc{uid, loc})
	}
	slices.SortFunc(merged, func(a, b uidLoc) int { return cmp.Compare(a.uid, b.uid) })
	c.locs, c.holes, c.extra = merged, 0, nil
}

// locate finds uid in order, starting at *j: a pass with ascending UIDs
// walks order once.
func locate(order []uidLoc, uid uint32, j *int) (frameLoc, bool) {
	if *j >= len(order) || order[*j].uid > uid {
		*j = sort.Search(len(order), func(k int) bool { return order[k].uid >= uid })
	}
	for *j < len(order) && order[*j].uid < uid {
		*j++
	}
	if *j < len(order) && order[*j].uid == uid && order[*j].loc.n != 0 {
		return order[*j].loc, true
	}
	return frameLoc{}, false
}

// frameField returns field name of a frame (with its 8-byte header);
// good is false when the frame is corrupt.
func frameField(frame []byte, name string) (v []byte, found, good bool) {
	if len(frame) < 12 {
		return nil, false, false
	}
	payload := frame[8:]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(frame[4:]) {
		return nil, false, false
	}
	v, found, err := lookupField(payload[4:], name)
	if err != nil {
		return nil, false, false
	}
	return v, found, true
}

func (c *cache) put(uid uint32, fields map[string][]byte) error {
	frame := encodeFrame(uid, fields)
	if _, err := c.f.Write(frame); err != nil {
		_ = c.f.Truncate(c.size)
		_, _ = c.f.Seek(c.size, io.SeekStart)
		return fmt.Errorf("write field cache: %w", err)
	}
	loc := frameLoc{off: c.size, n: int64(len(frame))}
	for name, v := range fields {
		if strings.HasSuffix(name, HotSuffix) {
			loc.hot, loc.hotN = c.appendHot(v)
			break
		}
	}
	c.set(uid, loc)
	c.size += int64(len(frame))
	return nil
}

func (c *cache) drop(uid uint32) {
	if old, ok := c.extra[uid]; ok {
		c.dead += old.n
		delete(c.extra, uid)
		return
	}
	if i, ok := c.search(uid); ok {
		c.dead += c.locs[i].loc.n
		c.locs[i].loc = frameLoc{}
		c.holes++
	}
}

func (c *cache) retain(live map[uint32]bool) {
	for uid := range c.extra {
		if !live[uid] {
			c.drop(uid)
		}
	}
	for i := range c.locs {
		if l := &c.locs[i]; l.loc.n != 0 && !live[l.uid] {
			c.dead += l.loc.n
			l.loc = frameLoc{}
			c.holes++
		}
	}
}

// compactIfWasteful rewrites the cache without dead frames when they take
// more space than the live ones.
func (c *cache) compactIfWasteful() error {
	if c.dead < compactMinWaste || c.dead < c.size-c.dead {
		return nil
	}
	c.sortOrder()
	locs := make([]uidLoc, 0, len(c.locs))
	var hot hotStore
	off := int64(len(cacheMagic))
	for _, l := range c.locs {
		nl := frameLoc{off: off, n: l.loc.n}
		if l.loc.hot != 0 {
			nl.hot, nl.hotN = hot.add(c.hotValue(l.loc))
		}
		locs = append(locs, uidLoc{l.uid, nl})
		off += l.loc.n
	}
	tmp := c.path + ".tmp"
	if err := writeFileFunc(c.fsys, tmp, c.sync, c.copyFrames); err != nil {
		return err
	}
	if err := c.fsys.Rename(tmp, c.path); err != nil {
		return fmt.Errorf("rename field cache: %w", err)
	}
	f, err := c.fsys.OpenFile(c.path, os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open field cache: %w", err)
	}
	_ = c.f.Close()
	c.f, c.size, c.dead, c.locs, c.hot = f, off, 0, locs, hot
	_, err = f.Seek(c.size, io.SeekStart)
	return err
}

// copyFrames writes the magic and the live frames in UID order (locs,
// merged) to w, through a buffer of scanWindow bytes: a compaction holds
// that much of the file, not all of it.
func (c *cache) copyFrames(w io.Writer) error {
	bw := bufio.NewWriterSize(w, scanWindow)
	if _, err := bw.WriteString(cacheMagic); err != nil {
		return err
	}
	var buf []byte
	for _, l := range c.locs {
		if int64(cap(buf)) < l.loc.n {
			buf = make([]byte, l.loc.n)
		}
		buf = buf[:l.loc.n]
		if _, err := c.f.ReadAt(buf, l.loc.off); err != nil {
			return fmt.Errorf("read field cache: %w", err)
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func encodeFrame(uid uint32, fields map[string][]byte) []byte {
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	var e encoder
	e.u32(uid)
	e.u32(uint32(len(names)))
	for _, n := range names {
		e.bytes([]byte(n))
		e.bytes(fields[n])
	}
	frame := make([]byte, 8, 8+len(e.b))
	binary.LittleEndian.PutUint32(frame, uint32(len(e.b)))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(e.b, castagnoli))
	return append(frame, e.b...)
}

var errBadFields = errors.New("mailindex: bad field frame")

func decodeFields(p []byte) (map[string][]byte, error) {
	d := decoder{b: p}
	n := d.u32()
	if d.err != nil || uint64(n)*8 > uint64(len(d.b)) {
		return nil, errBadFields
	}
	out := make(map[string][]byte, n)
	for i := uint32(0); i < n; i++ {
		name := string(d.bytes())
		out[name] = d.bytes()
	}
	if d.err != nil {
		return nil, errBadFields
	}
	return out, nil
}

// lookupField finds one field of an encoded field list without decoding
// the others.
func lookupField(p []byte, name string) ([]byte, bool, error) {
	d := decoder{b: p}
	n := d.u32()
	if d.err != nil || uint64(n)*8 > uint64(len(d.b)) {
		return nil, false, errBadFields
	}
	for i := uint32(0); i < n; i++ {
		k := d.span()
		v := d.span()
		if d.err != nil {
			return nil, false, errBadFields
		}
		if string(k) == name {
			return v, true, nil
		}
	}
	return nil, false, nil
}
