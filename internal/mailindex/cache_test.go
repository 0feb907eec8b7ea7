package mailindex

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanField: ScanField returns what Field returns for every UID,
// across read windows, out of file order, for missing UIDs and fields,
// and skips a frame corrupted on disk.
func TestScanField(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	defer ix.Close()
	val := func(uid uint32) []byte {
		return bytes.Repeat(fmt.Appendf(nil, "<%d>", uid), int(uid%9000)+1)
	}
	const n = 400 // about 2.4 MB: several scan windows
	for uid := uint32(1); uid <= n; uid++ {
		fields := map[string][]byte{"a": []byte("x"), "hdr": val(uid)}
		if uid%50 == 0 {
			delete(fields, "hdr")
		}
		if err := ix.PutFields(uid, fields); err != nil {
			t.Fatal(err)
		}
	}
	uids := []uint32{n + 1, 7, 3} // missing, then backwards
	for uid := uint32(1); uid <= n; uid++ {
		uids = append(uids, uid)
	}
	corrupt, _ := ix.cache.lookup(10)
	f, err := os.OpenFile(filepath.Join(dir, CacheFile), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XXXX"), corrupt.off+20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got := 0
	err = ix.ScanField(uids, "hdr", func(i int, v []byte, found bool) {
		uid := uids[i]
		want := uid <= n && uid%50 != 0 && uid != 10
		if found != want {
			t.Errorf("uid %d: found %v, want %v", uid, found, want)
		}
		if found && !bytes.Equal(v, val(uid)) {
			t.Errorf("uid %d: wrong value (%d bytes)", uid, len(v))
		}
		got++
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != len(uids) {
		t.Errorf("fn called %d times, want %d", got, len(uids))
	}
	// new frames after a scan: appended in order, and out of order
	for _, uid := range []uint32{n + 5, n + 2} {
		if err := ix.PutFields(uid, map[string][]byte{"hdr": val(uid)}); err != nil {
			t.Fatal(err)
		}
		seen := false
		ix.ScanField([]uint32{5, uid, n + 9}, "hdr", func(i int, v []byte, found bool) {
			if i == 1 {
				seen = found && bytes.Equal(v, val(uid))
			} else if found != (i == 0) {
				t.Errorf("after put %d: entry %d found %v", uid, i, found)
			}
		})
		if !seen {
			t.Errorf("frame of %d put after a scan not found", uid)
		}
	}
	if ix.HasFields(10) {
		t.Error("corrupt frame still indexed")
	}
	if v, ok, err := ix.Field(7, "hdr"); err != nil || !ok || !bytes.Equal(v, val(7)) {
		t.Errorf("Field(7) = %d bytes, %v, %v", len(v), ok, err)
	}
	if _, ok, err := ix.Field(50, "hdr"); err != nil || ok {
		t.Errorf("Field(50) of a frame without it = %v, %v", ok, err)
	}
}

// TestHotField: a HotSuffix field reads the same from memory as the
// file held it, after a reopen (load) and after a compaction.
func TestHotField(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	key := func(uid uint32) []byte { return fmt.Appendf(nil, "k%d", uid) }
	for uid := uint32(1); uid <= 100; uid++ {
		fields := map[string][]byte{"big": make([]byte, 2048), "s" + HotSuffix: key(uid)}
		if uid == 50 {
			delete(fields, "s"+HotSuffix)
		}
		if err := ix.PutFields(uid, fields); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, live func(uint32) bool) {
		t.Helper()
		uids := []uint32{}
		for uid := uint32(1); uid <= 100; uid++ {
			uids = append(uids, uid)
		}
		ix.ScanField(uids, "s"+HotSuffix, func(i int, v []byte, found bool) {
			uid := uids[i]
			want := live(uid) && uid != 50
			if found != want || found && !bytes.Equal(v, key(uid)) {
				t.Errorf("%s: uid %d: %q, %v; want found %v", when, uid, v, found, want)
			}
			if v, ok, err := ix.Field(uid, "s"+HotSuffix); err != nil || ok != want || ok && !bytes.Equal(v, key(uid)) {
				t.Errorf("%s: Field(%d) = %q, %v, %v", when, uid, v, ok, err)
			}
		})
	}
	all := func(uint32) bool { return true }
	check("fresh", all)
	ix.Close()
	ix = open(t, dir)
	defer func() { ix.Close() }()
	check("reopened", all)
	var gone []uint32
	for uid := uint32(1); uid <= 80; uid++ {
		gone = append(gone, uid)
	}
	if err := ix.Commit(&Tx{Expunges: gone}); err != nil {
		t.Fatal(err)
	}
	if err := ix.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if ix.cache.hot.size > 20*8 {
		t.Errorf("hot values not compacted: %d bytes", ix.cache.hot.size)
	}
	check("compacted", func(uid uint32) bool { return uid > 80 })
}

// TestCacheTornTail: a torn last frame is cut off on open; the frames
// before it and their hot values stay.
func TestCacheTornTail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	for uid := uint32(1); uid <= 3; uid++ {
		if err := ix.PutFields(uid, map[string][]byte{"h" + HotSuffix: fmt.Appendf(nil, "v%d", uid), "big": make([]byte, 3<<20)}); err != nil {
			t.Fatal(err)
		}
	}
	ix.Close()
	path := filepath.Join(dir, CacheFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()-100); err != nil {
		t.Fatal(err)
	}
	ix = open(t, dir)
	defer ix.Close()
	for uid := uint32(1); uid <= 3; uid++ {
		v, ok, err := ix.Field(uid, "h"+HotSuffix)
		if want := uid < 3; err != nil || ok != want || ok && string(v) != fmt.Sprintf("v%d", uid) {
			t.Errorf("uid %d after a torn tail: %q, %v, %v", uid, v, ok, err)
		}
	}
	if fi2, _ := os.Stat(path); fi2.Size() >= fi.Size()-100 {
		t.Errorf("torn frame not cut: %d bytes", fi2.Size())
	}
}

// TestCacheLocations drives the frame table (appends, puts below the
// highest UID, replacements, drops, merges by ScanField, compactions and
// reopens) against a map, and checks Field, HasFields, ScanField and the
// hot values. An expunged UID's frame may come back with a reopen (the
// file keeps it until a compaction; UIDs are not reused): not checked.
func TestCacheLocations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ix := open(t, dir)
	defer func() { ix.Close() }()
	model := map[uint32]string{}
	dropped := map[uint32]bool{} // expunged: a reopen may find the frame again
	stale := map[uint32]bool{}   // dropped, then reopened: not checked
	rng := rand.New(rand.NewPCG(1, 2))
	const maxUID = 300
	check := func(step int) {
		t.Helper()
		uids := make([]uint32, 0, maxUID)
		for uid := uint32(1); uid <= maxUID; uid++ {
			if stale[uid] {
				continue
			}
			want, ok := model[uid]
			if got := ix.HasFields(uid); got != ok {
				t.Fatalf("step %d: HasFields(%d) = %v, want %v", step, uid, got, ok)
			}
			v, found, err := ix.Field(uid, "v"+HotSuffix)
			if err != nil || found != ok || string(v) != want {
				t.Fatalf("step %d: Field(%d) = %q %v %v, want %q %v", step, uid, v, found, err, want, ok)
			}
			uids = append(uids, uid)
		}
		err := ix.ScanField(uids, "big", func(i int, v []byte, found bool) {
			want, ok := model[uids[i]]
			if stale[uids[i]] {
				return
			}
			if found != ok || (ok && string(v) != strings.Repeat(want, 30)) {
				t.Fatalf("step %d: ScanField(%d) = %q %v, want %v", step, uids[i], v, found, ok)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for step := 0; step < 3000; step++ {
		uid := uint32(rng.IntN(maxUID)) + 1
		switch r := rng.IntN(100); {
		case r < 70:
			v := fmt.Sprintf("%d/%d", uid, step)
			if err := ix.PutFields(uid, map[string][]byte{"v" + HotSuffix: []byte(v), "big": []byte(strings.Repeat(v, 30))}); err != nil {
				t.Fatal(err)
			}
			model[uid] = v
			delete(dropped, uid)
			delete(stale, uid)
		case r < 90:
			if err := ix.Commit(&Tx{Expunges: []uint32{uid}}); err != nil {
				t.Fatal(err)
			}
			delete(model, uid)
			dropped[uid] = true
		case r < 93: // a rebuild keeps the frames of the records it is given
			var recs []Record
			for uid := range model {
				if uid%7 == 0 {
					delete(model, uid)
					dropped[uid] = true
					continue
				}
				recs = append(recs, rec(uid))
			}
			if err := ix.Rebuild(Header{UIDValidity: 1}, recs); err != nil {
				t.Fatal(err)
			}
		case r < 96:
			if err := ix.Checkpoint(); err != nil {
				t.Fatal(err)
			}
		default:
			ix.Close()
			ix = open(t, dir)
			for uid := range dropped {
				stale[uid] = true
			}
		}
		if step%100 == 0 || step > 2900 {
			check(step)
		}
	}
	check(-1)
}

// TestHotStore stores values of every size class around the block size
// and reads each back unchanged, with no block holding more than its own.
func TestHotStore(t *testing.T) {
	t.Parallel()
	var h hotStore
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := []int{0, 1, hotChunk - 1, hotChunk, hotChunk + 1, 3*hotChunk + 5, 7}
	for i := 0; i < 2000; i++ {
		sizes = append(sizes, rng.IntN(300))
	}
	type stored struct {
		hot, n uint32
		v      []byte
	}
	var all []stored
	for i, n := range sizes {
		v := bytes.Repeat([]byte{byte(i)}, n)
		hot, got := h.add(v)
		if hot == 0 || got != uint32(n) {
			t.Fatalf("add(%d bytes) = %d, %d", n, hot, got)
		}
		all = append(all, stored{hot, got, v})
	}
	for i, s := range all {
		if v := h.value(s.hot, s.n); !bytes.Equal(v, s.v) {
			t.Fatalf("value %d (%d bytes) changed", i, len(s.v))
		}
	}
	for k, b := range h.chunks {
		if cap(b) > hotChunk && len(b) != cap(b) {
			t.Errorf("block %d: a large value's block holds %d of %d bytes", k, len(b), cap(b))
		}
	}
}
