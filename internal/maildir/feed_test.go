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

// takeAll returns the queued changes of sub as "kind:name" strings.
func takeAll(t *testing.T, sub *storage.ChangeSub) []string {
	t.Helper()
	chs, over := sub.Take()
	if over {
		t.Fatal("feed overflowed")
	}
	var out []string
	for _, c := range chs {
		s := []string{"", "messages", "name", "subscription", "unknown"}[c.Kind] + ":" + c.Mailbox
		if c.OldName != "" {
			s += "<" + c.OldName
		}
		if c.Deleted {
			s += " deleted"
		}
		if c.Subscribed {
			s += " subscribed"
		}
		out = append(out, s)
	}
	return out
}

func TestChangeFeed(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	home := t.TempDir()
	d := maildir.New(maildir.Options{})
	cfg := storeConfig(home, "maildir:~/Maildir:LAYOUT=fs", "/", "")
	watcher, err := d.OpenUser(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.OpenUser(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	woke := 0
	sub := watcher.(storage.ChangeWatcher).WatchChanges(bg, func() { woke++ })
	defer sub.Close()
	d.Poll(bg) // nothing to report
	if got := takeAll(t, sub); len(got) != 0 {
		t.Fatalf("first poll published %v", got)
	}

	if err := other.Create(bg, "A", nil); err != nil {
		t.Fatal(err)
	}
	if err := other.SetSubscribed(bg, "A", true); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Append(bg, "A", storage.AppendMessage{Body: strings.NewReader("Subject: x\r\n\r\nx\r\n"), Size: -1}); err != nil {
		t.Fatal(err)
	}
	if err := other.Rename(bg, "A", "B"); err != nil {
		t.Fatal(err)
	}
	if err := other.Delete(bg, "B"); err != nil {
		t.Fatal(err)
	}
	want := "name:A subscription:A subscribed messages:A name:B<A name:B deleted"
	if got := strings.Join(takeAll(t, sub), " "); got != want {
		t.Fatalf("in-process changes:\n got %s\nwant %s", got, want)
	}
	if woke == 0 {
		t.Fatal("wake never called")
	}
	select {
	case <-sub.C():
	default:
		t.Fatal("C not readable")
	}
	d.Poll(bg) // the changes above were published already
	if got := takeAll(t, sub); len(got) != 0 {
		t.Fatalf("poll after in-process changes published %v", got)
	}

	// Another process: a new message in new/, a new mailbox, a
	// subscription written by someone else.
	root := filepath.Join(home, "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "new", "1700000001.P9Q1.mx"), []byte("Subject: y\n\ny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, "Ext", sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "subscriptions"), []byte("V\t2\n\nExt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Poll(bg)
	got := strings.Join(takeAll(t, sub), " ")
	for _, w := range []string{"messages:INBOX", "name:Ext", "subscription:Ext subscribed"} {
		if !strings.Contains(got, w) {
			t.Errorf("poll after outside changes: %q lacks %q", got, w)
		}
	}
}

func TestChangeFeedOverflow(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	d := maildir.New(maildir.Options{})
	u, err := d.OpenUser(bg, storeConfig(t.TempDir(), "maildir:~/Maildir:LAYOUT=fs", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	sub := u.(storage.ChangeWatcher).WatchChanges(bg, nil)
	defer sub.Close()
	for i := 0; i <= storage.MaxQueuedChanges; i++ {
		if err := u.SetSubscribed(bg, "INBOX", i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	if chs, over := sub.Take(); !over || len(chs) != 0 {
		t.Fatalf("Take = %d changes, overflow %v", len(chs), over)
	}
	if chs, over := sub.Take(); over || len(chs) != 0 {
		t.Fatalf("second Take = %d changes, overflow %v", len(chs), over)
	}
}

// TestChangeFeedRewatch: what other processes did while nobody watched is
// not reported to the next watcher.
func TestChangeFeedRewatch(t *testing.T) {
	t.Parallel()
	bg := context.Background()
	home := t.TempDir()
	d := maildir.New(maildir.Options{})
	u, err := d.OpenUser(bg, storeConfig(home, "maildir:~/Maildir:LAYOUT=fs", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	w := u.(storage.ChangeWatcher)
	w.WatchChanges(bg, nil).Close()
	if err := os.MkdirAll(filepath.Join(home, "Maildir", "Quiet", "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	sub := w.WatchChanges(bg, nil)
	defer sub.Close()
	d.Poll(bg)
	if got := takeAll(t, sub); len(got) != 0 {
		t.Fatalf("published %v", got)
	}
}
