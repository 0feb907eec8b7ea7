package maildir_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"roost/internal/maildir"
	"roost/internal/storage"
)

// stepClock is a clock that moves only when told.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// racingFS is an outside writer that drops a file into cur/ right after
// the first rename roost makes once armed, before roost can stat the
// directory.
type racingFS struct {
	countFS
	armed atomic.Bool
	once  sync.Once
	drop  string
}

func (r *racingFS) Rename(from, to string) error {
	err := r.countFS.Rename(from, to)
	if err == nil && r.armed.Load() && filepath.Base(filepath.Dir(to)) == "cur" {
		r.once.Do(func() { _ = os.WriteFile(r.drop, []byte(ifMsg), 0o600) })
	}
	return err
}

func (c *countFS) reads() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.readdirs
	c.readdirs = 0
	return n
}

// TestOwnChangesNotReread: a session's own STORE, APPEND and EXPUNGE
// leave the mailbox in step with cur/ without reading it again; the
// directory is read once more when the dirty window of its stamp ends.
func TestOwnChangesNotReread(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	clock := &stepClock{t: time.Now()}
	c := &countFS{}
	u, err := maildir.New(maildir.Options{FS: c, Now: clock.now}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 3)
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	c.reads()
	if _, err := mb.Store(bg, []uint32{2}, storage.FlagsAdd, []string{storage.FlagFlagged}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Append(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(ifMsg), Size: -1, Flags: []string{storage.FlagSeen, storage.FlagDeleted}}); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if err := mb.Expunge(bg, nil); err != nil {
		t.Fatal(err)
	}
	ch, err := mb.Sync(bg)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.reads(); n != 0 {
		t.Errorf("own STORE, APPEND, EXPUNGE and their syncs read %d directories, want 0", n)
	}
	if len(ch.Expunged) != 1 || len(mb.Messages()) != 3 {
		t.Errorf("after the expunge: %d expunged, %d messages, want 1 and 3", len(ch.Expunged), len(mb.Messages()))
	}
	clock.add(time.Second)
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if n := c.reads(); n == 0 {
		t.Error("no directory read once the dirty window had passed")
	}
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if n := c.reads(); n != 0 {
		t.Errorf("a sync after the verification read %d directories, want 0", n)
	}
}

// TestOutsideChangeBehindOwnChange: a file an outside writer adds to cur/
// between roost's own rename and roost's stat of cur/ is behind the stamp
// roost takes; it is found when the stamp's dirty window ends.
func TestOutsideChangeBehindOwnChange(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	clock := &stepClock{t: time.Now()}
	r := &racingFS{drop: filepath.Join(home, "Maildir", "cur", "1795000000.M1P1.outside:2,S")}
	u, err := maildir.New(maildir.Options{FS: r, Now: clock.now}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 3)
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	clock.add(time.Second) // the open's own verification is over
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	r.armed.Store(true)
	if _, err := mb.Store(bg, []uint32{1}, storage.FlagsAdd, []string{storage.FlagFlagged}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(r.drop); err != nil {
		t.Fatalf("the outside writer did not run: %v", err)
	}
	clock.add(time.Second)
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if n := len(mb.Messages()); n != 4 {
		t.Errorf("after the dirty window the view has %d messages, want 4 (the outside file too)", n)
	}
}
