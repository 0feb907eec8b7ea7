package maildir_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/maildir"
	"roost/internal/storage"
)

type wakeSyncer interface {
	SyncWoken(ctx context.Context) (*storage.Changes, error)
}

// TestWokenViewsShareOneScan: a delivery wakes every view of the mailbox;
// the first to sync reads the directories, the others take its result and
// read none (one scan per change, not one per session), and every view
// announces the new message, with \Recent claimed by exactly one.
func TestWokenViewsShareOneScan(t *testing.T) {
	t.Parallel()
	c := &countFS{}
	u, err := maildir.New(maildir.Options{FS: c}).OpenUser(bg, storeConfig(t.TempDir(), "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	views := make([]storage.Mailbox, n)
	for i := range views {
		if views[i], err = u.Open(bg, "INBOX", storage.OpenOptions{ReadOnly: i%5 == 4}); err != nil {
			t.Fatal(err)
		}
		defer views[i].Close()
	}
	msg := "Subject: wake\n\nbody\n"
	if err := u.(deliveryAppender).AppendDelivery(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg), Size: int64(len(msg))}); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.readdirs = 0
	c.mu.Unlock()
	recent := 0
	for i, v := range views {
		select {
		case <-v.Notify():
		default:
			t.Fatalf("view %d was not woken", i)
		}
		ch, err := v.(wakeSyncer).SyncWoken(bg)
		if err != nil {
			t.Fatal(err)
		}
		if ch.New != 1 || len(v.Messages()) != 1 {
			t.Fatalf("view %d: %d new, %d messages; want 1, 1", i, ch.New, len(v.Messages()))
		}
		if i%5 != 4 && v.Messages()[0].Recent {
			recent++
		}
	}
	if recent != 1 {
		t.Errorf("\\Recent claimed by %d read-write views, want 1", recent)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readdirs > 3 {
		t.Errorf("%d views synced with %d directory reads, want at most 3 (one scan)", n, c.readdirs)
	}
}

// TestSyncAfterWakeLooksAtDisk: a view woken but not yet synced when
// another view took the change still finds, on a plain Sync (NOOP), a
// file an outside writer added since.
func TestSyncAfterWakeLooksAtDisk(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
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
	msg := "Subject: wake\n\nbody\n"
	if err := u.(deliveryAppender).AppendDelivery(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg), Size: int64(len(msg))}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.(wakeSyncer).SyncWoken(bg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "Maildir", "new", "1700000000.P1Q1.mx"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	ch, err := b.Sync(bg)
	if err != nil {
		t.Fatal(err)
	}
	if ch.New != 2 {
		t.Errorf("Sync after a wake: %d new, want 2 (the delivery and the outside file)", ch.New)
	}
}

// TestPollWakesOnlyForChanges: after a delivery every view has synced,
// the poller finds the directories changed (the first view's new/ to cur/
// rename) but nothing to show, and wakes no view; a file another process
// adds wakes them all, and they take the poller's scan.
func TestPollWakesOnlyForChanges(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	c := &countFS{}
	d := maildir.New(maildir.Options{FS: c})
	u, err := d.OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	views := make([]storage.Mailbox, 5)
	for i := range views {
		if views[i], err = u.Open(bg, "INBOX", storage.OpenOptions{}); err != nil {
			t.Fatal(err)
		}
		defer views[i].Close()
	}
	msg := "Subject: wake\n\nbody\n"
	if err := u.(deliveryAppender).AppendDelivery(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg), Size: int64(len(msg))}); err != nil {
		t.Fatal(err)
	}
	drain := func(want int) {
		t.Helper()
		for i, v := range views {
			select {
			case <-v.Notify():
			default:
				t.Fatalf("view %d was not woken", i)
			}
			ch, err := v.(wakeSyncer).SyncWoken(bg)
			if err != nil {
				t.Fatal(err)
			}
			if ch.New != want {
				t.Fatalf("view %d: %d new, want %d", i, ch.New, want)
			}
		}
	}
	drain(1)
	d.Poll(bg)
	for i, v := range views {
		select {
		case <-v.Notify():
			t.Fatalf("view %d woken by a poll that found nothing new", i)
		default:
		}
	}
	if err := os.WriteFile(filepath.Join(home, "Maildir", "new", "1700000000.P1Q1.mx"), []byte(msg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Poll(bg)
	c.mu.Lock()
	c.readdirs = 0
	c.mu.Unlock()
	drain(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.readdirs != 0 {
		t.Errorf("views woken by the poller read %d directories, want 0", c.readdirs)
	}
}
