package maildir_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"roost/internal/maildir"
	"roost/internal/storage"
	"roost/internal/vfs"
)

type modseqBox interface {
	ModSeqsEnabled() bool
	EnableModSeqs(ctx context.Context) error
}

func modseqs(t *testing.T, mb storage.Mailbox) []uint64 {
	t.Helper()
	var out []uint64
	for _, m := range mb.Messages() {
		out = append(out, m.ModSeq)
	}
	return out
}

func wantModseqs(t *testing.T, mb storage.Mailbox, want ...uint64) {
	t.Helper()
	got := modseqs(t, mb)
	if len(got) != len(want) {
		t.Fatalf("MODSEQs %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("MODSEQs %v, want %v", got, want)
		}
	}
}

// TestModseqLazy: MODSEQs are numbered as Dovecot's index numbers them:
// an empty box at 1, one per change however many messages it touches,
// every message at the HIGHESTMODSEQ of the moment they were enabled, and
// the enabling survives a restart.
func TestModseqLazy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	home := t.TempDir()
	u := openUser(t, vfs.OS{}, home)
	fill(t, u, 3)
	mb, err := u.Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if hi := mb.Status().HighestModSeq; hi != 4 {
		t.Fatalf("HIGHESTMODSEQ after 3 saves = %d, want 4", hi)
	}
	ms := mb.(modseqBox)
	if ms.ModSeqsEnabled() {
		t.Fatal("MODSEQs enabled before any use")
	}
	if _, err := mb.Store(ctx, []uint32{1, 2, 3}, storage.FlagsAdd, []string{storage.FlagFlagged}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if hi := mb.Status().HighestModSeq; hi != 5 {
		t.Fatalf("HIGHESTMODSEQ after one STORE of 3 = %d, want 5", hi)
	}
	if err := ms.EnableModSeqs(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Store(ctx, []uint32{2}, storage.FlagsAdd, []string{storage.FlagAnswered}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	wantModseqs(t, mb, 5, 6, 5)
	mb.Close()

	mb2, err := openUser(t, vfs.OS{}, home).Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb2.Close()
	if !mb2.(modseqBox).ModSeqsEnabled() {
		t.Fatal("enabling lost on restart")
	}
	wantModseqs(t, mb2, 5, 6, 5)
}

// TestModseqLegacyFile: a roost.modseq written before the lazy numbering
// (the ceiling alone) keeps its mailbox's MODSEQs enabled.
func TestModseqLegacyFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	home := t.TempDir()
	u := openUser(t, vfs.OS{}, home)
	fill(t, u, 1)
	if err := os.WriteFile(filepath.Join(home, "Maildir", "roost.modseq"), []byte("100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mb, err := openUser(t, vfs.OS{}, home).Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if !mb.(modseqBox).ModSeqsEnabled() {
		t.Fatal("legacy roost.modseq: MODSEQs not enabled")
	}
	if hi := mb.Status().HighestModSeq; hi < 100 {
		t.Fatalf("HIGHESTMODSEQ %d below the legacy ceiling 100", hi)
	}
}

// TestModseqExactAfterClose: a box that leaves the cache persists its
// exact HIGHESTMODSEQ, so the next load (or a restarted server) goes on
// from there, not from the top of the reserved block.
func TestModseqExactAfterClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	home := t.TempDir()
	open := func() storage.User {
		d := maildir.New(maildir.Options{FS: vfs.OS{}, Now: later, CacheBytes: -1})
		u, err := d.OpenUser(ctx, storeConfig(home, "maildir:~/Maildir", "/", ""))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	fill(t, open(), 3)
	for i := 0; i < 2; i++ {
		st, err := open().Status(ctx, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		if st.HighestModSeq != 4 {
			t.Fatalf("HIGHESTMODSEQ after 3 saves and a reload = %d, want 4", st.HighestModSeq)
		}
	}
}

// TestModseqExactAfterDriverClose: with the box cache on, a box still
// cached when the process ends is written back by Driver.Close, so the next
// process goes on from the exact HIGHESTMODSEQ (as Dovecot does), not from
// the top of the reserved block.
func TestModseqExactAfterDriverClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	home := t.TempDir()
	d := maildir.New(maildir.Options{FS: vfs.OS{}, Now: later})
	u, err := d.OpenUser(ctx, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 3)
	d.Close()
	d2 := maildir.New(maildir.Options{FS: vfs.OS{}, Now: later})
	u2, err := d2.OpenUser(ctx, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	st, err := u2.Status(ctx, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if st.HighestModSeq != 4 {
		t.Fatalf("HIGHESTMODSEQ after 3 saves, Driver.Close and a new process = %d, want 4", st.HighestModSeq)
	}
}
