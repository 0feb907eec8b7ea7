package mailindex

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"roost/internal/vfs"
)

func rec(uid uint32) Record {
	return Record{UID: uid, Flags: uid % 7, Keywords: 1 << (uid % 26), ModSeq: uint64(uid) * 3,
		InternalDate: 1600000000 + int64(uid), SaveDate: 1700000000, Size: 100 + int64(uid), VSize: 110 + int64(uid),
		Name: "1600000000.M1P2.host,S=100,W=110:2,S"}
}

func open(t *testing.T, dir string) *Index {
	t.Helper()
	ix, err := Open(vfs.OS{}, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestCommitReplayCheckpoint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	h := Header{UIDValidity: 42, UIDNext: 4, HighestModSeq: 9, FirstRecentUID: 2, Stamp: []byte("stamp")}
	if err := ix.Rebuild(h, []Record{rec(1), rec(2), rec(3)}); err != nil {
		t.Fatal(err)
	}
	h2 := h
	h2.UIDNext, h2.HighestModSeq = 5, 12
	r2 := rec(2)
	r2.Flags, r2.ModSeq = 8, 11
	if err := ix.Commit(&Tx{Header: &h2, Upserts: []Record{rec(4), r2}, Expunges: []uint32{1}}); err != nil {
		t.Fatal(err)
	}
	if err := ix.PutFields(3, map[string][]byte{"ENVELOPE": []byte("(env)"), "BODY": []byte("(b)")}); err != nil {
		t.Fatal(err)
	}
	ix.Close()

	ix = open(t, dir) // replays the log
	defer ix.Close()
	if !reflect.DeepEqual(ix.Header(), h2) {
		t.Fatalf("header = %+v, want %+v", ix.Header(), h2)
	}
	want := []Record{r2, rec(3), rec(4)}
	if !reflect.DeepEqual(ix.Records(), want) {
		t.Fatalf("records = %+v", ix.Records())
	}
	if v, ok, err := ix.Field(3, "ENVELOPE"); err != nil || !ok || string(v) != "(env)" {
		t.Fatalf("field = %q %v %v", v, ok, err)
	}
	if err := ix.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	ix2 := open(t, dir)
	defer ix2.Close()
	if !reflect.DeepEqual(ix2.Records(), want) {
		t.Fatalf("after checkpoint = %+v", ix2.Records())
	}
}

func TestTornLogTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	h := Header{UIDValidity: 1, UIDNext: 2}
	if err := ix.Rebuild(h, []Record{rec(1)}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Commit(&Tx{Upserts: []Record{rec(2)}}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Commit(&Tx{Upserts: []Record{rec(3)}}); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	p := filepath.Join(dir, LogFile)
	fi, _ := os.Stat(p)
	if err := os.Truncate(p, fi.Size()-5); err != nil { // tear the last frame
		t.Fatal(err)
	}
	ix = open(t, dir)
	defer ix.Close()
	if got := len(ix.Records()); got != 2 {
		t.Fatalf("records after torn tail = %d, want 2", got)
	}
	if err := ix.Commit(&Tx{Upserts: []Record{rec(5)}}); err != nil {
		t.Fatal(err)
	}
	ix3 := open(t, dir)
	defer ix3.Close()
	if got := len(ix3.Records()); got != 3 {
		t.Fatalf("records after append past torn tail = %d, want 3", got)
	}
}

func TestCorruptIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	if err := ix.Rebuild(Header{UIDValidity: 7}, []Record{rec(1)}); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	p := filepath.Join(dir, IndexFile)
	data, _ := os.ReadFile(p)
	data[20] ^= 0xff
	os.WriteFile(p, data, 0o600)
	ix, err := Open(vfs.OS{}, dir, Options{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	defer ix.Close()
	if len(ix.Records()) != 0 || ix.Header().UIDValidity != 0 {
		t.Fatalf("corrupt index not emptied")
	}
	if err := ix.Rebuild(Header{UIDValidity: 8}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCacheCompaction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	big := make([]byte, 4096)
	for i := uint32(1); i <= 40; i++ {
		if err := ix.PutFields(i, map[string][]byte{"F": big}); err != nil {
			t.Fatal(err)
		}
	}
	var gone []uint32
	for i := uint32(1); i <= 30; i++ {
		gone = append(gone, i)
	}
	if err := ix.Commit(&Tx{Expunges: gone}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, CacheFile))
	if fi.Size() > 11*4200 {
		t.Errorf("cache not compacted: %d bytes", fi.Size())
	}
	if _, ok, _ := ix.Field(35, "F"); !ok {
		t.Error("live field lost by compaction")
	}
	ix.Close()
	ix = open(t, dir)
	defer ix.Close()
	if _, ok, _ := ix.Field(40, "F"); !ok {
		t.Error("live field lost after reopen")
	}
	if _, ok, _ := ix.Field(3, "F"); ok {
		t.Error("expunged field still cached")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(encodeIndex(1, Header{UIDValidity: 1, Stamp: []byte("x")}, &sliceSource{rec(1), rec(2)}, 0, nil))
	f.Add(encodeIndex(1, Header{UIDValidity: 1}, &sliceSource{rec(2)}, 5, []Expunged{{1, 7}}))
	f.Add(encodeTx(&Tx{Upserts: []Record{rec(1)}, Expunges: []uint32{3}}))
	f.Add(encodeTx(&Tx{Expunges: []uint32{3}, Expunged: []Expunged{{3, 9}}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ix Index
		_ = ix.decodeIndex(data)
		_, _ = decodeTx(data)
		_, _ = decodeFields(data)
	})
}

// TestExpungeHistory: the history survives the log replay and a
// checkpoint, is bounded, and is lost (ok false) with a rebuild.
func TestExpungeHistory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix, err := Open(vfs.OS{}, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := Header{UIDValidity: 7, UIDNext: 10, HighestModSeq: 20}
	if err := ix.Rebuild(h, []Record{rec(1), rec(2), rec(3), rec(4)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ix.ExpungedSince(19); ok {
		t.Fatal("history reaches before the rebuild")
	}
	h.HighestModSeq = 22
	if err := ix.Commit(&Tx{Header: &h, Expunges: []uint32{3, 1}, Expunged: []Expunged{{3, 21}, {1, 22}}}); err != nil {
		t.Fatal(err)
	}
	check := func(ix *Index, since uint64, want string, wantOK bool) {
		t.Helper()
		uids, ok := ix.ExpungedSince(since)
		if got := fmt.Sprint(uids); got != want || ok != wantOK {
			t.Fatalf("ExpungedSince(%d) = %s %v, want %s %v", since, got, ok, want, wantOK)
		}
	}
	check(ix, 20, "[1 3]", true)
	check(ix, 21, "[1]", true)
	check(ix, 22, "[]", true)
	ix.Close()
	ix, err = Open(vfs.OS{}, dir, Options{}) // replayed from the log
	if err != nil {
		t.Fatal(err)
	}
	check(ix, 20, "[1 3]", true)
	if err := ix.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix, err = Open(vfs.OS{}, dir, Options{}) // from the checkpoint
	if err != nil {
		t.Fatal(err)
	}
	check(ix, 20, "[1 3]", true)
	check(ix, 3, "[]", false)
	many := make([]Expunged, MaxHistory)
	for i := range many {
		many[i] = Expunged{UID: uint32(100 + i), ModSeq: uint64(23 + i)}
	}
	ix.addHistory(many)
	check(ix, 21, "[]", false) // trimmed
	if uids, ok := ix.ExpungedSince(uint64(23 + MaxHistory - 2)); !ok || len(uids) != 1 {
		t.Fatalf("newest entries: %v %v", uids, ok)
	}
	ix.Close()
}

// TestReleaseRecords: after ReleaseRecords the index keeps no records;
// the log replays on open and a checkpoint writes what the source holds.
func TestReleaseRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	h := Header{UIDValidity: 42, UIDNext: 4, HighestModSeq: 9}
	if err := ix.Rebuild(h, []Record{rec(1), rec(2), rec(3)}); err != nil {
		t.Fatal(err)
	}
	state := sliceSource{rec(1), rec(2), rec(3)}
	ix.ReleaseRecords(&state)
	if ix.Records() != nil {
		t.Fatalf("records kept after release: %d", len(ix.Records()))
	}
	h.UIDNext = 5
	state = sliceSource{rec(2), rec(3), rec(4)}
	if err := ix.Commit(&Tx{Header: &h, Upserts: []Record{rec(4)}, Expunges: []uint32{1}}); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix = open(t, dir) // the log replays onto the checkpoint
	if got := ix.Records(); !reflect.DeepEqual(got, []Record(state)) {
		t.Fatalf("records after replay = %+v", got)
	}
	ix.ReleaseRecords(&state)
	state = append(state, rec(5))
	if err := ix.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix = open(t, dir)
	if got := ix.Records(); !reflect.DeepEqual(got, []Record(state)) {
		t.Fatalf("records after checkpoint = %+v", got)
	}
	ix.ReleaseRecords(&state)
	state = sliceSource{rec(7)}
	h.UIDValidity = 43
	if err := ix.RebuildFromSource(h); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix = open(t, dir)
	defer ix.Close()
	if got := ix.Records(); !reflect.DeepEqual(got, []Record(state)) || ix.Header().UIDValidity != 43 {
		t.Fatalf("records after rebuild = %+v, header %+v", got, ix.Header())
	}
}

// TestReadIndexV1: an index written as RIX1 (before RIX2) is read as it
// was; the next checkpoint writes RIX2.
func TestReadIndexV1(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := encodeIndex(1, Header{UIDValidity: 7, UIDNext: 3}, &sliceSource{rec(1), rec(2)}, 0, nil)
	copy(data, indexMagicV1)
	body := data[:len(data)-4]
	binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.Checksum(body, castagnoli))
	if err := os.WriteFile(filepath.Join(dir, IndexFile), data, 0o600); err != nil {
		t.Fatal(err)
	}
	ix := open(t, dir)
	defer ix.Close()
	if h := ix.Header(); h.UIDValidity != 7 || len(ix.Records()) != 2 || ix.Records()[1].UID != 2 {
		t.Fatalf("RIX1 index read as %+v, %d records", h, len(ix.Records()))
	}
	if err := ix.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, IndexFile))
	if err != nil || string(got[:4]) != indexMagic {
		t.Fatalf("checkpoint wrote %q, %v", got[:4], err)
	}
}
