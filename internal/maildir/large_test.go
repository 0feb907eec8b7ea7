package maildir_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// BenchmarkOpenLarge opens a 20,000-message mailbox written by an outside
// writer: the first open numbers and indexes every file, later opens use
// the index.
func BenchmarkOpenLarge(b *testing.B) {
	home, n := largeBox(b)
	t0 := time.Now()
	snapshotB(b, home)
	b.Logf("first open of %d messages: %v", n, time.Since(t0))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snapshotB(b, home)
	}
}

// BenchmarkOpenCached opens the large mailbox again and again through one
// Driver (one server process): after the first, the state is cached and
// an open compares directory stamps only. It reports the heap held per
// message with one view open.
func BenchmarkOpenCached(b *testing.B) {
	home, n := largeBox(b)
	u := openUser(&testing.T{}, vfs.OS{}, home)
	open := func() storage.Mailbox {
		mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return mb
	}
	open().Close() // builds the index
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	mb := open()
	runtime.GC()
	runtime.ReadMemStats(&after)
	mb.Close()
	view := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc) / float64(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		open().Close()
	}
	b.ReportMetric(view, "view-B/msg")
	b.ReportMetric(heap, "heap-B/msg")
}

// largeBox writes a mailbox of ROOST_LARGE_N (default 20,000) messages
// as an outside writer would, once per benchmark.
func largeBox(b *testing.B) (string, int) {
	n := 20000
	if s := os.Getenv("ROOST_LARGE_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	return writeLargeBox(b, n), n
}

// writeLargeBox writes a mailbox of n messages as an outside writer
// would (sizes in the file names, no dovecot-uidlist) and returns its home.
func writeLargeBox(tb testing.TB, n int) string {
	home := tb.TempDir()
	cur := filepath.Join(home, "Maildir", "cur")
	for _, d := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(home, "Maildir", d), 0o700); err != nil {
			tb.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%d.M%dP1.host,S=%d,W=%d:2,S", 1600000000+i, i, len(ifMsg), len(ifMsg)+5)
		if err := os.WriteFile(filepath.Join(cur, name), []byte(ifMsg), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return home
}

func snapshotB(b *testing.B, home string) {
	t := &testing.T{}
	u := openUser(t, vfs.OS{}, home)
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if len(mb.Messages()) == 0 {
		b.Fatal("no messages")
	}
	mb.Close()
}
