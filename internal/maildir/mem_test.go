package maildir_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"roost/internal/maildir"
	"roost/internal/storage"
	"roost/internal/vfs"
)

// BenchmarkOpenFirst opens a large mailbox written by an outside writer
// for the first time (no dovecot-uidlist, no index), as the first SELECT
// of the bigbox case does.
func BenchmarkOpenFirst(b *testing.B) {
	home, _ := largeBox(b)
	md := filepath.Join(home, "Maildir")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, f := range []string{"dovecot-uidlist", "roost.index", "roost.index.log", "roost.cache", "roost.modseq"} {
			_ = os.Remove(filepath.Join(md, f))
		}
		u := openUser(&testing.T{}, vfs.OS{}, home)
		b.StartTimer()
		mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		mb.Close()
	}
}

// maxHeapPerMessage bounds the heap a large mailbox holds per message
// with one view open: the box's message (96 B), its file name, its
// pointer and the view snapshot's record, and the index (nothing: it
// releases its records). About 177 B at 10,000 messages; 237 B before
// the box dropped its map by name and the base field. The bound leaves
// room for noise, not for a second copy of the messages or a map of them.
const maxHeapPerMessage = 220

// TestHeapPerMessage measures the heap a 10,000-message mailbox holds
// open in one view, after its first open (scan, numbering, index build)
// and after an open from the index by a new Driver (a restarted server).
// It does not call t.Parallel: parallel tests wait while it runs, so the
// heap is this test's.
func TestHeapPerMessage(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 10,000 files")
	}
	const n = 10000
	home := writeLargeBox(t, n)
	for _, step := range []string{"first open", "open from the index"} {
		u := openUser(t, vfs.OS{}, home)
		before := liveHeap()
		mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if st := mb.Status(); st.Messages != n {
			t.Fatalf("%s: %d messages, want %d", step, st.Messages, n)
		}
		per := float64(liveHeap()-before) / n
		mb.Close()
		t.Logf("%s: %.0f B of heap per message", step, per)
		if per > maxHeapPerMessage {
			t.Errorf("%s: %.0f B of heap per message, want at most %d", step, per, maxHeapPerMessage)
		}
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestLazyDates checks the dates a first scan leaves unread: they are the
// file mtimes when asked for, and a restarted server reads them from the
// index (more than checkpointUpserts messages: written by a checkpoint),
// not from the files again.
func TestLazyDates(t *testing.T) {
	t.Parallel()
	const n = 5000
	home := writeLargeBox(t, n)
	cur := filepath.Join(home, "Maildir", "cur")
	names, err := os.ReadDir(cur)
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint32]int64{} // by UID: files are numbered in name order
	for i, e := range names {
		when := time.Unix(int64(1500000000+i*7), 0)
		if err := os.Chtimes(filepath.Join(cur, e.Name()), when, when); err != nil {
			t.Fatal(err)
		}
		want[uint32(i+1)] = when.Unix()
	}
	for _, step := range []string{"first open", "open from the index"} {
		d := maildir.New(maildir.Options{FS: vfs.OS{}, Now: later})
		u, err := d.OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
		if err != nil {
			t.Fatal(err)
		}
		mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		msgs := mb.Messages()
		if len(msgs) != n {
			t.Fatalf("%s: %d messages, want %d", step, len(msgs), n)
		}
		for _, m := range msgs {
			if got := m.InternalDate.Unix(); got != want[m.UID] {
				t.Fatalf("%s: UID %d INTERNALDATE %d, want %d", step, m.UID, got, want[m.UID])
			}
		}
		mb.Close()
		d.Close() // flushes the index
		// Files touched behind the index's back keep the dates it read.
		for _, e := range names {
			_ = os.Chtimes(filepath.Join(cur, e.Name()), time.Unix(1, 0), time.Unix(1, 0))
		}
	}
}

// TestLazyDatesExpunged: a view that still shows a message another view
// expunged gives its INTERNALDATE, although the file is gone.
func TestLazyDatesExpunged(t *testing.T) {
	t.Parallel()
	home, _, _, when := datedSmallBox(t)
	u := openUser(t, vfs.OS{}, home)
	a, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := a.Expunge(bg, []uint32{1}); err != nil {
		t.Fatal(err)
	}
	m := b.Messages()[0]
	if m.UID != 1 || !m.InternalDate.Equal(when) {
		t.Errorf("expunged message shown as UID %d INTERNALDATE %v, want 1 %v", m.UID, m.InternalDate, when)
	}
}

// TestUndatedMessages: a FETCH without dates (MessageAtUndated) reads no
// file, so the dates read later (MessageAt, DatesSizes for SORT) are the
// files' dates of that moment.
func TestUndatedMessages(t *testing.T) {
	t.Parallel()
	const n = 20
	home := writeLargeBox(t, n)
	u := openUser(t, vfs.OS{}, home)
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	l := mb.(interface {
		storage.MessageLister
		MessageAtUndated(i int) storage.Message
	})
	for i := 0; i < l.Len(); i++ {
		if m := l.MessageAtUndated(i); m.UID != l.UIDAt(i) || !m.InternalDate.IsZero() || len(m.Flags) != 1 {
			t.Fatalf("MessageAtUndated(%d) = %+v", i, m)
		}
	}
	when := time.Unix(1500000000, 0)
	cur := filepath.Join(home, "Maildir", "cur")
	names, err := os.ReadDir(cur)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range names {
		if err := os.Chtimes(filepath.Join(cur, e.Name()), when, when); err != nil {
			t.Fatal(err)
		}
	}
	ds := mb.(interface {
		DatesSizes(idx []int, dates, sizes []int64)
	})
	idx := []int{n - 1, 0, 3}
	dates, sizes := make([]int64, len(idx)), make([]int64, len(idx))
	ds.DatesSizes(idx, dates, sizes)
	for k, i := range idx {
		m := l.MessageAt(i)
		if !m.InternalDate.Equal(when) || dates[k] != when.Unix() || sizes[k] != m.Size {
			t.Fatalf("message %d: MessageAt %v %d, DatesSizes %d %d, want date %v", i, m.InternalDate, m.Size, dates[k], sizes[k], when)
		}
	}
}

// TestLazyDatesRenamedOutside: a message whose dates were never read and
// whose file another process renamed (a flag change) since the last scan
// gets its file's date, found under the new name; one whose file is gone
// gets the delivery time its Maildir name starts with, never 1970.
func TestLazyDatesRenamedOutside(t *testing.T) {
	t.Parallel()
	home, cur, names, when := datedSmallBox(t)
	u := openUser(t, vfs.OS{}, home)
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	first, third := names[0].Name(), names[2].Name()
	if err := os.Rename(filepath.Join(cur, first), filepath.Join(cur, strings.TrimSuffix(first, "S")+"FS")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(cur, third)); err != nil {
		t.Fatal(err)
	}
	msgs := mb.Messages()
	if got := msgs[0].InternalDate; !got.Equal(when) {
		t.Errorf("renamed outside: INTERNALDATE %v, want %v", got, when)
	}
	secs, _, _ := strings.Cut(third, ".")
	if got := msgs[2].InternalDate; strconv.FormatInt(got.Unix(), 10) != secs {
		t.Errorf("removed outside: INTERNALDATE %v, want the name's time %s", got, secs)
	}
}

// datedSmallBox writes a 3-message Maildir whose files all have the
// mtime when; it returns the home, cur/ and cur/'s entries.
func datedSmallBox(t *testing.T) (home, cur string, names []os.DirEntry, when time.Time) {
	t.Helper()
	home = writeLargeBox(t, 3)
	cur = filepath.Join(home, "Maildir", "cur")
	names, err := os.ReadDir(cur)
	if err != nil {
		t.Fatal(err)
	}
	when = time.Unix(1500000000, 0)
	for _, e := range names {
		if err := os.Chtimes(filepath.Join(cur, e.Name()), when, when); err != nil {
			t.Fatal(err)
		}
	}
	return home, cur, names, when
}
