package maildir_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"roost/internal/maildir"
	"roost/internal/storage"
	"roost/internal/vfs"
)

// countFS counts directory reads and stats of message files.
type countFS struct {
	vfs.OS
	mu       sync.Mutex
	readdirs int
	msgStats int
}

func (c *countFS) ReadDirNames(name string) ([]string, error) {
	c.mu.Lock()
	c.readdirs++
	c.mu.Unlock()
	return c.OS.ReadDirNames(name)
}

func (c *countFS) Stat(name string) (os.FileInfo, error) {
	if d := filepath.Base(filepath.Dir(name)); d == "cur" || d == "new" {
		c.mu.Lock()
		c.msgStats++
		c.mu.Unlock()
	}
	return c.OS.Stat(name)
}

// later is a clock an hour ahead, so that directory mtimes written now
// are outside the dirty window.
func later() time.Time { return time.Now().Add(time.Hour) }

func openUser(t *testing.T, fsys vfs.FS, home string) storage.User {
	t.Helper()
	d := maildir.New(maildir.Options{FS: fsys, Now: later})
	u, err := d.OpenUser(context.Background(), storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func fill(t *testing.T, u storage.User, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		f := []string{}
		if i%3 == 0 {
			f = append(f, storage.FlagSeen, "kw"+string(rune('a'+i%5)))
		}
		if _, err := u.Append(context.Background(), "INBOX", storage.AppendMessage{Body: strings.NewReader(ifMsg), Size: -1, Flags: f}); err != nil {
			t.Fatal(err)
		}
	}
}

func snapshot(t *testing.T, u storage.User) ([]storage.Message, storage.Status) {
	t.Helper()
	mb, err := u.Open(context.Background(), "INBOX", storage.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	return append([]storage.Message(nil), mb.Messages()...), mb.Status()
}

// TestFreshIndexNoScan: opening a mailbox whose index matches the disk
// reads no directory and stats no message file.
func TestFreshIndexNoScan(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	fill(t, openUser(t, vfs.OS{}, home), 50)
	msgs1, _ := snapshot(t, openUser(t, vfs.OS{}, home)) // scans, stores the stamp
	c := &countFS{}
	msgs2, _ := snapshot(t, openUser(t, c, home))
	if c.readdirs != 0 || c.msgStats != 0 {
		t.Errorf("fresh index: %d readdirs, %d message stats; want 0", c.readdirs, c.msgStats)
	}
	if len(msgs2) != 50 || msgs2[49].UID != msgs1[49].UID {
		t.Fatalf("messages from index differ: %d", len(msgs2))
	}
	for i := range msgs1 {
		if msgs1[i].ModSeq != msgs2[i].ModSeq || strings.Join(msgs1[i].Flags, " ") != strings.Join(msgs2[i].Flags, " ") {
			t.Fatalf("message %d differs: %+v vs %+v", i, msgs1[i], msgs2[i])
		}
	}
	// an outside writer (Postfix) drops a file into new/: found, numbered
	name := filepath.Join(home, "Maildir", "new", "1700000000.P1Q1.mx")
	if err := os.WriteFile(name, []byte(ifMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	c = &countFS{}
	msgs3, st := snapshot(t, openUser(t, c, home))
	if len(msgs3) != 51 || msgs3[50].UID != 51 || st.UIDNext != 52 {
		t.Fatalf("outside delivery: %d messages, last UID %d, status %+v", len(msgs3), msgs3[len(msgs3)-1].UID, st)
	}
	if c.msgStats > 2 {
		t.Errorf("rescan with index stat'ed %d message files, want only the new one", c.msgStats)
	}
}

// TestIndexLossOrCorruption: deleting or corrupting the index loses no
// message, UID, flag or keyword, and HIGHESTMODSEQ does not go back.
func TestIndexLossOrCorruption(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"delete", "corrupt", "truncate-log"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			home := t.TempDir()
			u := openUser(t, vfs.OS{}, home)
			fill(t, u, 20)
			mb, err := u.Open(context.Background(), "INBOX", storage.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := mb.Store(context.Background(), []uint32{2, 3}, storage.FlagsAdd, []string{storage.FlagFlagged, "Later"}, storage.StoreOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := mb.Expunge(context.Background(), []uint32{5}); err != nil {
				t.Fatal(err)
			}
			mb.Close()
			before, st1 := snapshot(t, openUser(t, vfs.OS{}, home))
			dir := filepath.Join(home, "Maildir")
			switch mode {
			case "delete":
				for _, f := range []string{"roost.index", "roost.index.log", "roost.cache"} {
					os.Remove(filepath.Join(dir, f))
				}
			case "corrupt":
				p := filepath.Join(dir, "roost.index")
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				data[len(data)/2] ^= 0x55
				os.WriteFile(p, data, 0o600)
			case "truncate-log":
				p := filepath.Join(dir, "roost.index.log")
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				os.Truncate(p, fi.Size()/2)
			}
			after, st2 := snapshot(t, openUser(t, vfs.OS{}, home))
			if len(after) != len(before) {
				t.Fatalf("%d messages after %s, want %d", len(after), mode, len(before))
			}
			for i := range before {
				if before[i].UID != after[i].UID || strings.Join(before[i].Flags, " ") != strings.Join(after[i].Flags, " ") ||
					!before[i].InternalDate.Equal(after[i].InternalDate) || before[i].Size != after[i].Size {
					t.Fatalf("message %d: %+v, was %+v", i, after[i], before[i])
				}
			}
			if st2.HighestModSeq < st1.HighestModSeq || st2.UIDNext != st1.UIDNext || st2.UIDValidity != st1.UIDValidity {
				t.Fatalf("status after %s = %+v, was %+v", mode, st2, st1)
			}
		})
	}
}

// TestFieldCache: fields computed at save time are served from the
// index, also after a reopen.
func TestFieldCache(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	calls := 0
	var mu sync.Mutex
	cfg := storeConfig(home, "maildir:~/Maildir", "/", "")
	cfg.Fields = func(r io.ReaderAt, size int64) (map[string][]byte, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		buf := make([]byte, 4)
		r.ReadAt(buf, 0)
		return map[string][]byte{"HEAD4": buf}, nil
	}
	u, err := maildir.New(maildir.Options{}).OpenUser(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 2)
	u2, err := maildir.New(maildir.Options{}).OpenUser(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := u2.Open(context.Background(), "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	v, err := mb.Field(context.Background(), 2, "HEAD4")
	if err != nil || string(v) != "From" {
		t.Fatalf("field = %q, %v", v, err)
	}
	if _, err := mb.Field(context.Background(), 2, "NOPE"); storage.KindOf(err) != storage.KindNotFound {
		t.Fatalf("unknown field: %v", err)
	}
	if calls != 2 {
		t.Errorf("FieldFunc called %d times, want 2 (once per save)", calls)
	}
}

// TestDeliveryToClosedMailbox: a save into a mailbox nobody has open
// continues its MODSEQs and \Recent state from the index.
func TestDeliveryToClosedMailbox(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	u := openUser(t, vfs.OS{}, home)
	fill(t, u, 3)
	mb, err := u.Open(context.Background(), "INBOX", storage.OpenOptions{}) // claims \Recent
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if _, err := mb.Store(context.Background(), []uint32{1}, storage.FlagsSet, []string{"k" + string(rune('a'+i))}, storage.StoreOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	high := mb.Status().HighestModSeq
	mb.Close()
	fill(t, openUser(t, vfs.OS{}, home), 1) // another process delivers
	msgs, st := snapshot(t, openUser(t, vfs.OS{}, home))
	if msgs[3].ModSeq <= high || st.HighestModSeq < msgs[3].ModSeq {
		t.Fatalf("delivered modseq %d, old highest %d, status %d", msgs[3].ModSeq, high, st.HighestModSeq)
	}
	if st.Recent != 1 || !msgs[3].Recent || msgs[0].Recent {
		t.Fatalf("recent after delivery: status %d, msgs %v %v", st.Recent, msgs[0].Recent, msgs[3].Recent)
	}
}

// TestExpungeHistory: QRESYNC's expunge history survives reopening in a
// new process and is reported lost (ok false) once the index is deleted.
func TestExpungeHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	home := t.TempDir()
	u := openUser(t, vfs.OS{}, home)
	fill(t, u, 5)
	mb, err := u.Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := mb.Status().HighestModSeq
	if err := mb.Expunge(ctx, []uint32{4, 2}); err != nil {
		t.Fatal(err)
	}
	mid := before + 1 // one EXPUNGE, one MODSEQ (Dovecot's transaction)
	if err := mb.Expunge(ctx, []uint32{5}); err != nil {
		t.Fatal(err)
	}
	eh := mb.(storage.ExpungeHistory)
	check := func(eh storage.ExpungeHistory, since uint64, want string, wantOK bool) {
		t.Helper()
		uids, ok, err := eh.ExpungedSince(ctx, since)
		if got := fmt.Sprint(uids); err != nil || got != want || ok != wantOK {
			t.Fatalf("ExpungedSince(%d) = %s %v %v, want %s %v", since, got, ok, err, want, wantOK)
		}
	}
	check(eh, before, "[2 4 5]", true)
	check(eh, mid, "[5]", true)
	mb.Close()
	mb2, err := openUser(t, vfs.OS{}, home).Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check(mb2.(storage.ExpungeHistory), before, "[2 4 5]", true)
	check(mb2.(storage.ExpungeHistory), 0, "[]", false)
	mb2.Close()
	for _, f := range []string{"roost.index", "roost.index.log"} {
		if err := os.Remove(filepath.Join(home, "Maildir", f)); err != nil {
			t.Fatal(err)
		}
	}
	mb3, err := openUser(t, vfs.OS{}, home).Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb3.Close()
	check(mb3.(storage.ExpungeHistory), before, "[]", false)
	if st := mb3.Status(); st.HighestModSeq < before+3 || len(mb3.Messages()) != 2 {
		t.Fatalf("after index loss: %+v, %d messages", st, len(mb3.Messages()))
	}
}
