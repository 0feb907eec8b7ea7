package maildir_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"roost/internal/maildir"
	"roost/internal/storage"
)

// BenchmarkCycle runs the storage side of the loadgen's cycle session
// (scripts/bench -cases cycle) on one user with mail_fsync = optimized:
// open INBOX, APPEND with \Seen, sync, STORE \Deleted, EXPUNGE, sync,
// close. It reports the time of each step.
func BenchmarkCycle(b *testing.B) {
	ctx := context.Background()
	d := maildir.New(maildir.Options{})
	u, err := d.OpenUser(ctx, storeConfig(b.TempDir(), "maildir:~/Maildir", "/", ""))
	if err != nil {
		b.Fatal(err)
	}
	msg := "Subject: bench\nFrom: a@example.org\n\n" + strings.Repeat("body line of a benchmark message\n", 120)
	for i := 0; i < 20; i++ {
		if _, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg), Size: -1}); err != nil {
			b.Fatal(err)
		}
	}
	var tOpen, tAppend, tSync, tExpunge time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		mb, err := u.Open(ctx, "INBOX", storage.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		r, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg), Size: -1, Flags: []string{`\Seen`}})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if _, err := mb.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		if _, err := mb.Store(ctx, []uint32{r.UID}, storage.FlagsAdd, []string{`\Deleted`}, storage.StoreOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := mb.Expunge(ctx, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := mb.Sync(ctx); err != nil {
			b.Fatal(err)
		}
		t4 := time.Now()
		mb.Close()
		tOpen += t1.Sub(t0)
		tAppend += t2.Sub(t1)
		tSync += t3.Sub(t2)
		tExpunge += t4.Sub(t3)
	}
	n := float64(b.N)
	b.ReportMetric(float64(tOpen.Microseconds())/n, "open-µs")
	b.ReportMetric(float64(tAppend.Microseconds())/n, "append-µs")
	b.ReportMetric(float64(tSync.Microseconds())/n, "sync-µs")
	b.ReportMetric(float64(tExpunge.Microseconds())/n, "expunge-µs")
}
