package mailindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"roost/internal/vfs"
)

// File names in the index directory.
const (
	IndexFile = "roost.index"
	LogFile   = "roost.index.log"
	CacheFile = "roost.cache"
)

// ErrCorrupt reports an index file that failed its checksum or does not
// parse; the caller rebuilds the index.
var ErrCorrupt = errors.New("mailindex: corrupt index")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

const (
	// indexMagic names the index format. RIX2 is RIX1's layout whose
	// records may hold values an older roost would misread (maildir's
	// dates not read yet, math.MinInt64): RIX2 is written, both are read,
	// and a roost that knows RIX1 only rebuilds from the mail files.
	indexMagic   = "RIX2"
	indexMagicV1 = "RIX1"
	logMagic     = "RIL1"
	recFixedSize = 80
	// checkpointLogSize is the log size after which Commit rewrites the
	// index and truncates the log.
	checkpointLogSize = 1 << 20
)

// Header is the per-mailbox header.
type Header struct {
	UIDValidity    uint32
	UIDNext        uint32
	HighestModSeq  uint64
	FirstRecentUID uint32
	// Stamp is opaque driver state telling whether the index is still in
	// step with the mail files (for Maildir: directory and uidlist stamps).
	Stamp []byte
}

// Record is one message.
type Record struct {
	UID          uint32
	Flags        uint32 // driver-defined system flag bits
	Keywords     uint64 // keyword bits
	ModSeq       uint64
	InternalDate int64 // unix seconds
	SaveDate     int64 // unix seconds
	Size         int64 // physical
	VSize        int64 // RFC822.SIZE
	GUID         [16]byte
	Name         string // driver data, e.g. the Maildir file name
}

// Tx is one committed change.
type Tx struct {
	Header   *Header  // new header, if changed
	Upserts  []Record // added or changed records
	Expunges []uint32
	// Expunged is the expunge history to add: the UID and MODSEQ of
	// each expunge (usually the same UIDs as Expunges), ascending MODSEQ.
	Expunged []Expunged
}

// Expunged is one entry of the expunge history (QRESYNC's VANISHED).
type Expunged struct {
	UID    uint32
	ModSeq uint64
}

// MaxHistory is how many expunges the history keeps; older ones are
// dropped and the history floor rises past them.
const MaxHistory = 1 << 17

// Index is an open index.
type Index struct {
	fsys    vfs.FS
	dir     string
	sync    bool
	hdr     Header
	gen     uint64
	recs    []Record // ascending UID; nil once src supplies them
	src     RecordSource
	log     vfs.File
	logSize int64
	cache   *cache
	hist    []Expunged // ascending MODSEQ
	// histFloor: the history holds every expunge with a MODSEQ above it.
	histFloor uint64
}

// Options configures Open.
type Options struct {
	Fsync bool // fsync files on checkpoint and commit
}

// Open opens the index in dir, creating dir if needed. Missing files give
// an empty index (Header zero). A file that fails its checksum gives
// ErrCorrupt together with a usable empty index, so that the caller can
// Rebuild.
func Open(fsys vfs.FS, dir string, opts Options) (*Index, error) {
	if err := fsys.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create index dir: %w", err)
	}
	ix := &Index{fsys: fsys, dir: dir, sync: opts.Fsync}
	var corrupt error
	if err := ix.readIndex(); err != nil {
		if !errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		corrupt = err
		ix.hdr, ix.recs, ix.gen = Header{}, nil, 0
	}
	if err := ix.openLog(corrupt == nil); err != nil {
		return nil, err
	}
	c, err := openCache(fsys, filepath.Join(dir, CacheFile), opts.Fsync)
	if err != nil {
		ix.log.Close()
		return nil, err
	}
	ix.cache = c
	return ix, corrupt
}

// Header returns the header.
func (ix *Index) Header() Header { return ix.hdr }

// Records returns the records in UID order; the slice must not be modified.
// After ReleaseRecords it returns nil.
func (ix *Index) Records() []Record { return ix.recs }

// RecordSource supplies the records, in ascending UID order, to a
// checkpoint of an index that released its own (ReleaseRecords).
type RecordSource interface {
	NumRecords() int
	RecordAt(i int) Record
}

// ReleaseRecords drops the records kept in memory once the caller holds
// the same state: from then on the index keeps only its header, history
// and log position, and every checkpoint writes the records src gives,
// which must reflect every transaction committed so far. It keeps one
// copy of per-message state in the process instead of two.
func (ix *Index) ReleaseRecords(src RecordSource) {
	ix.src, ix.recs = src, nil
}

// sliceSource is a RecordSource over a slice.
type sliceSource []Record

func (s sliceSource) NumRecords() int       { return len(s) }
func (s sliceSource) RecordAt(i int) Record { return s[i] }

// Close closes the files.
func (ix *Index) Close() error {
	err := ix.log.Close()
	if cerr := ix.cache.close(); err == nil {
		err = cerr
	}
	return err
}

func (ix *Index) path(name string) string { return filepath.Join(ix.dir, name) }

func (ix *Index) readIndex() error {
	f, err := ix.fsys.Open(ix.path(IndexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open index: %w", err)
	}
	defer f.Close()
	data, err := readAllSized(f)
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	return ix.decodeIndex(data)
}

// readAllSized reads f whole into a buffer of its size (io.ReadAll would
// grow one by doubling: about three times a large index in garbage).
func readAllSized(f vfs.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() <= 0 {
		return io.ReadAll(f)
	}
	data := make([]byte, fi.Size())
	n, err := io.ReadFull(f, data)
	if err == io.ErrUnexpectedEOF {
		return data[:n], nil // shorter than stat'ed: the checksum decides
	}
	if err != nil {
		return nil, err
	}
	return data, nil
}

func (ix *Index) decodeIndex(data []byte) error {
	if len(data) < 8 || (string(data[:4]) != indexMagic && string(data[:4]) != indexMagicV1) {
		return fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	d := decoder{b: body[4:]}
	ix.gen = d.u64()
	ix.hdr = d.header()
	n := d.u32()
	if d.err != nil || uint64(n)*recFixedSize > uint64(len(d.b)) {
		return fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	ix.recs = make([]Record, n)
	for i := range ix.recs {
		ix.recs[i] = d.record()
	}
	if d.err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, d.err)
	}
	ix.histFloor = ix.hdr.HighestModSeq // a file without history
	if len(d.b) > 0 {
		ix.histFloor, ix.hist = d.history()
	}
	if d.err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, d.err)
	}
	return nil
}

func encodeIndex(gen uint64, h Header, recs RecordSource, floor uint64, hist []Expunged) []byte {
	var buf bytes.Buffer
	_ = writeIndex(&buf, gen, h, recs, floor, hist) // a bytes.Buffer does not fail
	return buf.Bytes()
}

// indexChunk is how much of an index writeIndex encodes before writing
// it out: a checkpoint of a large mailbox holds this much, not the file.
const indexChunk = 64 << 10

// writeIndex writes an index file to w, in chunks of indexChunk bytes,
// the checksum of all of it last.
func writeIndex(w io.Writer, gen uint64, h Header, recs RecordSource, floor uint64, hist []Expunged) error {
	var e encoder
	var sum uint32
	flush := func() error {
		sum = crc32.Update(sum, castagnoli, e.b)
		_, err := w.Write(e.b)
		e.b = e.b[:0]
		return err
	}
	n := recs.NumRecords()
	e.b = make([]byte, 0, indexChunk+recFixedSize+64<<10)
	e.b = append(e.b, indexMagic...)
	e.u64(gen)
	e.header(h)
	e.u32(uint32(n))
	for i := 0; i < n; i++ {
		r := recs.RecordAt(i)
		e.record(&r)
		if len(e.b) >= indexChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	e.history(floor, hist)
	sum = crc32.Update(sum, castagnoli, e.b)
	e.b = binary.LittleEndian.AppendUint32(e.b, sum)
	_, err := w.Write(e.b)
	return err
}

// openLog opens the log and replays it if it belongs to the current
// checkpoint generation; a torn tail is cut off.
func (ix *Index) openLog(replay bool) error {
	f, err := ix.fsys.OpenFile(ix.path(LogFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open index log: %w", err)
	}
	ix.log = f
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Errorf("read index log: %w", err)
	}
	if !replay || len(data) < 12 || string(data[:4]) != logMagic || binary.LittleEndian.Uint64(data[4:12]) != ix.gen {
		return ix.resetLog()
	}
	good := int64(12)
	for off := 12; off+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[off:]))
		if n > len(data)-off-8 {
			break
		}
		payload := data[off+8 : off+8+n]
		if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(data[off+4:]) {
			break
		}
		tx, err := decodeTx(payload)
		if err != nil {
			break
		}
		ix.apply(tx)
		off += 8 + n
		good = int64(off)
	}
	if good != int64(len(data)) {
		if err := f.Truncate(good); err != nil {
			return fmt.Errorf("truncate index log: %w", err)
		}
	}
	ix.logSize = good
	_, err = f.Seek(good, io.SeekStart)
	return err
}

func (ix *Index) resetLog() error {
	if err := ix.log.Truncate(0); err != nil {
		return fmt.Errorf("truncate index log: %w", err)
	}
	hdr := make([]byte, 12)
	copy(hdr, logMagic)
	binary.LittleEndian.PutUint64(hdr[4:], ix.gen)
	if _, err := ix.log.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := ix.log.Write(hdr); err != nil {
		return fmt.Errorf("write index log: %w", err)
	}
	ix.logSize = 12
	return nil
}

// apply applies a transaction in memory.
func (ix *Index) apply(tx *Tx) {
	if tx.Header != nil {
		ix.hdr = *tx.Header
	}
	ix.addHistory(tx.Expunged)
	if ix.src != nil {
		return // the source holds the records
	}
	if len(tx.Expunges) > 0 {
		gone := make(map[uint32]bool, len(tx.Expunges))
		for _, u := range tx.Expunges {
			gone[u] = true
		}
		kept := ix.recs[:0]
		for _, r := range ix.recs {
			if !gone[r.UID] {
				kept = append(kept, r)
			}
		}
		ix.recs = kept
	}
	for _, r := range tx.Upserts {
		i := sort.Search(len(ix.recs), func(i int) bool { return ix.recs[i].UID >= r.UID })
		if i < len(ix.recs) && ix.recs[i].UID == r.UID {
			ix.recs[i] = r
			continue
		}
		ix.recs = append(ix.recs, Record{})
		copy(ix.recs[i+1:], ix.recs[i:])
		ix.recs[i] = r
	}
}

// Commit appends tx to the log, then applies it. A failed write leaves the
// index as it was (the torn frame is ignored on the next open).
func (ix *Index) Commit(tx *Tx) error {
	payload := encodeTx(tx)
	frame := make([]byte, 8, 8+len(payload))
	binary.LittleEndian.PutUint32(frame, uint32(len(payload)))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(payload, castagnoli))
	frame = append(frame, payload...)
	if _, err := ix.log.Write(frame); err != nil {
		_ = ix.log.Truncate(ix.logSize)
		_, _ = ix.log.Seek(ix.logSize, io.SeekStart)
		return fmt.Errorf("write index log: %w", err)
	}
	if ix.sync {
		if err := ix.log.Sync(); err != nil {
			return fmt.Errorf("fsync index log: %w", err)
		}
	}
	ix.logSize += int64(len(frame))
	ix.apply(tx)
	for _, u := range tx.Expunges {
		ix.cache.drop(u)
	}
	if ix.logSize > checkpointLogSize {
		return ix.Checkpoint()
	}
	return nil
}

// Rebuild replaces the whole index.
//
// The expunge history does not survive: it starts afresh at
// h.HighestModSeq.
func (ix *Index) Rebuild(h Header, recs []Record) error {
	ix.hdr = h
	ix.hist, ix.histFloor = nil, h.HighestModSeq
	sorted := sort.SliceIsSorted(recs, func(i, j int) bool { return recs[i].UID < recs[j].UID })
	if ix.src == nil || !sorted {
		ix.recs = append(ix.recs[:0], recs...)
		sort.Slice(ix.recs, func(i, j int) bool { return ix.recs[i].UID < ix.recs[j].UID })
		recs = ix.recs
	}
	ix.retainCache(len(recs), func(i int) uint32 { return recs[i].UID })
	src := sliceSource(recs)
	err := ix.checkpoint(&src)
	if ix.src != nil {
		ix.recs = nil
	}
	return err
}

// RebuildFromSource is Rebuild with the records of the source given to
// ReleaseRecords, without a copy of them.
func (ix *Index) RebuildFromSource(h Header) error {
	if ix.src == nil {
		return errors.New("rebuild index: no record source")
	}
	ix.hdr = h
	ix.hist, ix.histFloor = nil, h.HighestModSeq
	src := ix.src
	ix.retainCache(src.NumRecords(), func(i int) uint32 { return src.RecordAt(i).UID })
	return ix.checkpoint(src)
}

// retainCache drops the cached fields of UIDs not among the n that uidAt
// gives (nothing to do, and no set of UIDs built, when the cache is empty:
// the first build of a mailbox's index).
func (ix *Index) retainCache(n int, uidAt func(int) uint32) {
	if ix.cache.empty() {
		return
	}
	live := make(map[uint32]bool, n)
	for i := 0; i < n; i++ {
		live[uidAt(i)] = true
	}
	ix.cache.retain(live)
}

// Checkpoint writes the index file and empties the log.
func (ix *Index) Checkpoint() error {
	if ix.src != nil {
		return ix.checkpoint(ix.src)
	}
	src := sliceSource(ix.recs)
	return ix.checkpoint(&src)
}

func (ix *Index) checkpoint(recs RecordSource) error {
	gen := ix.gen + 1
	tmp := ix.path(IndexFile + ".tmp")
	err := writeFileFunc(ix.fsys, tmp, ix.sync, func(w io.Writer) error {
		return writeIndex(w, gen, ix.hdr, recs, ix.histFloor, ix.hist)
	})
	if err != nil {
		_ = ix.fsys.Remove(tmp)
		return err
	}
	if err := ix.fsys.Rename(tmp, ix.path(IndexFile)); err != nil {
		_ = ix.fsys.Remove(tmp)
		return fmt.Errorf("rename index: %w", err)
	}
	ix.gen = gen
	if err := ix.resetLog(); err != nil {
		return err
	}
	return ix.cache.compactIfWasteful()
}

func writeFile(fsys vfs.FS, path string, data []byte, sync bool) error {
	return writeFileFunc(fsys, path, sync, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// writeFileFunc creates path with what write writes to it.
func writeFileFunc(fsys vfs.FS, path string, sync bool, write func(io.Writer) error) error {
	f, err := fsys.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	err = write(f)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

// addHistory appends expunges to the history, dropping the oldest beyond
// MaxHistory.
func (ix *Index) addHistory(es []Expunged) {
	ix.hist = append(ix.hist, es...)
	if over := len(ix.hist) - MaxHistory; over > 0 {
		ix.histFloor = max(ix.histFloor, ix.hist[over-1].ModSeq)
		ix.hist = append(ix.hist[:0], ix.hist[over:]...)
	}
}

// ExpungedSince returns the UIDs expunged with a MODSEQ above modseq, in
// ascending order; ok is false when the history does not reach back that
// far (it was lost with a rebuild, or trimmed).
func (ix *Index) ExpungedSince(modseq uint64) (uids []uint32, ok bool) {
	if modseq < ix.histFloor {
		return nil, false
	}
	i := sort.Search(len(ix.hist), func(i int) bool { return ix.hist[i].ModSeq > modseq })
	for _, e := range ix.hist[i:] {
		uids = append(uids, e.UID)
	}
	sort.Slice(uids, func(a, b int) bool { return uids[a] < uids[b] })
	return uids, true
}

// Field returns a cached field of a message.
func (ix *Index) Field(uid uint32, name string) ([]byte, bool, error) {
	return ix.cache.get(uid, name)
}

// ScanField calls fn with the cached field name of each of uids, in
// order, reading the cache in large sequential windows (a SEARCH or SORT
// over a whole mailbox). found is false when the message has no cached
// frame or the frame lacks the field. v is valid only during the call.
func (ix *Index) ScanField(uids []uint32, name string, fn func(i int, v []byte, found bool)) error {
	return ix.cache.scan(uids, name, fn)
}

// HasFields reports whether fields of uid are cached.
func (ix *Index) HasFields(uid uint32) bool { return ix.cache.has(uid) }

// PutFields caches the fields of a message.
func (ix *Index) PutFields(uid uint32, fields map[string][]byte) error {
	return ix.cache.put(uid, fields)
}

func decodeTx(p []byte) (*Tx, error) {
	d := decoder{b: p}
	tx := &Tx{}
	if d.u8() == 1 {
		h := d.header()
		tx.Header = &h
	}
	n := d.u32()
	if d.err != nil || uint64(n)*recFixedSize > uint64(len(d.b)) {
		return nil, ErrCorrupt
	}
	tx.Upserts = make([]Record, n)
	for i := range tx.Upserts {
		tx.Upserts[i] = d.record()
	}
	m := d.u32()
	if d.err != nil || uint64(m)*4 > uint64(len(d.b)) {
		return nil, ErrCorrupt
	}
	tx.Expunges = make([]uint32, m)
	for i := range tx.Expunges {
		tx.Expunges[i] = d.u32()
	}
	if len(d.b) > 0 {
		_, tx.Expunged = d.history()
	}
	if d.err != nil {
		return nil, ErrCorrupt
	}
	return tx, nil
}

func encodeTx(tx *Tx) []byte {
	var e encoder
	if tx.Header != nil {
		e.u8(1)
		e.header(*tx.Header)
	} else {
		e.u8(0)
	}
	e.u32(uint32(len(tx.Upserts)))
	for i := range tx.Upserts {
		e.record(&tx.Upserts[i])
	}
	e.u32(uint32(len(tx.Expunges)))
	for _, u := range tx.Expunges {
		e.u32(u)
	}
	if len(tx.Expunged) > 0 {
		e.history(0, tx.Expunged)
	}
	return e.b
}

type encoder struct{ b []byte }

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64) { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) bytes(p []byte) {
	e.u32(uint32(len(p)))
	e.b = append(e.b, p...)
}

func (e *encoder) header(h Header) {
	e.u32(h.UIDValidity)
	e.u32(h.UIDNext)
	e.u64(h.HighestModSeq)
	e.u32(h.FirstRecentUID)
	e.bytes(h.Stamp)
}

// record writes the fixed part (recFixedSize bytes) and the name.
func (e *encoder) record(r *Record) {
	e.u32(r.UID)
	e.u32(r.Flags)
	e.u64(r.Keywords)
	e.u64(r.ModSeq)
	e.u64(uint64(r.InternalDate))
	e.u64(uint64(r.SaveDate))
	e.u64(uint64(r.Size))
	e.u64(uint64(r.VSize))
	e.b = append(e.b, r.GUID[:]...)
	e.u32(0) // reserved
	e.bytes([]byte(r.Name))
}

// history writes a floor and expunge entries.
func (e *encoder) history(floor uint64, hist []Expunged) {
	e.u64(floor)
	e.u32(uint32(len(hist)))
	for _, h := range hist {
		e.u32(h.UID)
		e.u64(h.ModSeq)
	}
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) need(n int) bool {
	if d.err != nil || len(d.b) < n {
		d.err = io.ErrUnexpectedEOF
		return false
	}
	return true
}

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.u32()
	if !d.need(int(n)) {
		return nil
	}
	v := bytes.Clone(d.b[:n])
	d.b = d.b[n:]
	return v
}

// span is bytes without the copy: the result aliases the input.
func (d *decoder) span() []byte {
	n := d.u32()
	if !d.need(int(n)) {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) history() (uint64, []Expunged) {
	floor := d.u64()
	n := d.u32()
	if d.err != nil || uint64(n)*12 > uint64(len(d.b)) {
		d.err = io.ErrUnexpectedEOF
		return 0, nil
	}
	hist := make([]Expunged, n)
	for i := range hist {
		hist[i] = Expunged{UID: d.u32(), ModSeq: d.u64()}
	}
	return floor, hist
}

func (d *decoder) header() Header {
	return Header{UIDValidity: d.u32(), UIDNext: d.u32(), HighestModSeq: d.u64(), FirstRecentUID: d.u32(), Stamp: d.bytes()}
}

func (d *decoder) record() Record {
	r := Record{UID: d.u32(), Flags: d.u32(), Keywords: d.u64(), ModSeq: d.u64(),
		InternalDate: int64(d.u64()), SaveDate: int64(d.u64()), Size: int64(d.u64()), VSize: int64(d.u64())}
	if d.need(16) {
		copy(r.GUID[:], d.b[:16])
		d.b = d.b[16:]
	}
	d.u32()
	r.Name = string(d.bytes())
	return r
}
