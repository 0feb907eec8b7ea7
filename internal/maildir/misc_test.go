package maildir_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"roost/internal/maildir"
	"roost/internal/storage"
)

var bg = context.Background()

// TestMissingHome: a mail root inside a missing home is unavailable
// storage, never an empty mailbox; an existing home gets ~/Maildir.
func TestMissingHome(t *testing.T) {
	t.Parallel()
	d := maildir.New(maildir.Options{})
	// a home on a volume that is not there at all
	home := filepath.Join("/roost-not-mounted-"+filepath.Base(t.TempDir()), "alice")
	_, err := d.OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if storage.KindOf(err) != storage.KindUnavailable {
		t.Fatalf("missing home: %v (kind %v), want UNAVAILABLE", err, storage.KindOf(err))
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Fatalf("home created on a missing volume: %v", err)
	}
	home = t.TempDir()
	u, err := d.OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, "Maildir")); err != nil {
		t.Fatalf("~/Maildir not created: %v", err)
	}
	st, err := u.Status(bg, "INBOX")
	if err != nil || st.Messages != 0 {
		t.Fatalf("INBOX status = %+v, %v", st, err)
	}
}

// TestRootVanishes: if the mail root disappears under an open mailbox
// (unmounted storage), Sync fails instead of expunging everything.
func TestRootVanishes(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 3)
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if err := os.Rename(filepath.Join(home, "Maildir"), filepath.Join(home, "Unmounted")); err != nil {
		t.Fatal(err)
	}
	ch, err := mb.Sync(bg)
	if err == nil {
		t.Fatalf("sync on vanished root succeeded: %+v", ch)
	}
	if k := storage.KindOf(err); k != storage.KindUnavailable {
		t.Errorf("kind = %v, want UNAVAILABLE", k)
	}
	if len(mb.Messages()) != 3 {
		t.Errorf("view lost messages: %d", len(mb.Messages()))
	}
	if _, err := u.Append(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(ifMsg), Size: -1}); err == nil {
		t.Errorf("delivery into a vanished root succeeded")
	}
	if err := os.Rename(filepath.Join(home, "Unmounted"), filepath.Join(home, "Maildir")); err != nil {
		t.Fatal(err)
	}
	ch, err = mb.Sync(bg)
	if err != nil || len(ch.Expunged) != 0 || len(mb.Messages()) != 3 {
		t.Fatalf("after remount: %+v, %v", ch, err)
	}
}

// TestPollWakesIdle: a file dropped into new/ by another process wakes
// the views through the driver's shared poll.
func TestPollWakesIdle(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	d := maildir.New(maildir.Options{})
	u, err := d.OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	d.Poll(bg)
	select {
	case <-mb.Notify():
		mb.Sync(bg) // a dirty directory may report once
	default:
	}
	if err := os.WriteFile(filepath.Join(home, "Maildir", "new", "1700000001.P9Q1.mx"), []byte(ifMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Poll(bg)
	select {
	case <-mb.Notify():
	default:
		t.Fatal("Poll did not wake the view")
	}
	ch, err := mb.Sync(bg)
	if err != nil || ch.New != 1 || !mb.Messages()[0].Recent {
		t.Fatalf("sync after poll: %+v %v", ch, err)
	}
	// claimed: the file moved to cur/
	if _, err := os.Stat(filepath.Join(home, "Maildir", "cur", "1700000001.P9Q1.mx")); err != nil {
		t.Errorf("new/ file not moved to cur/: %v", err)
	}
}

// TestAutoMailboxes: auto=create|subscribe mailboxes exist after
// OpenUser, with their special-use flags.
func TestAutoMailboxes(t *testing.T) {
	t.Parallel()
	cfg := storeConfig(t.TempDir(), "maildir:~/Maildir", "/", "")
	cfg.Namespaces[0].Mailboxes = []storage.MailboxConfig{
		{Name: "Sent", SpecialUse: []string{`\Sent`}, Auto: "subscribe"},
		{Name: "Trash", SpecialUse: []string{`\Trash`}, Auto: "create"},
		{Name: "Junk", SpecialUse: []string{`\Junk`}, Auto: "no"},
	}
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := u.List(bg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, mi := range l {
		got[mi.Name] = mi.SpecialUse
	}
	if !slices.Equal(got["Sent"], []string{`\Sent`}) || !slices.Equal(got["Trash"], []string{`\Trash`}) {
		t.Errorf("list = %v", got)
	}
	if _, ok := got["Junk"]; ok {
		t.Errorf("auto=no mailbox created")
	}
	subs, _ := u.Subscriptions(bg)
	if !slices.Equal(subs, []string{"Sent"}) {
		t.Errorf("subscriptions = %q", subs)
	}
	// CREATE-SPECIAL-USE matching the configuration is accepted
	if err := u.Create(bg, "Junk", []string{`\Junk`}); err != nil {
		t.Errorf("create Junk \\Junk: %v", err)
	}
	// others are kept as the mailbox's specialuse attribute (attributes.go)
	if err := u.Create(bg, "Other", []string{`\Archive`}); err != nil {
		t.Errorf("create with unconfigured special-use: %v", err)
	}
}

// TestStaleLock: a dovecot-uidlist.lock left by a dead process, or older
// than two minutes (an empty one too: a process killed between creating
// and writing it), is overridden; a live one makes saves wait. Locks are
// created with O_EXCL (dotlock_use_excl = yes, the default) or linked
// from a temporary file (no).
func TestStaleLock(t *testing.T) {
	t.Parallel()
	for _, link := range []bool{false, true} {
		t.Run(fmt.Sprintf("link=%v", link), func(t *testing.T) {
			t.Parallel()
			testStaleLock(t, link)
		})
	}
}

func testStaleLock(t *testing.T, link bool) {
	home := t.TempDir()
	cfg := storeConfig(home, "maildir:~/Maildir", "/", "")
	cfg.DotlockLink = link
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 1)
	lock := filepath.Join(home, "Maildir", "dovecot-uidlist.lock")
	old := time.Now().Add(-3 * time.Minute)
	for _, content := range []string{"1:otherhost", ""} {
		// an old lock
		if err := os.WriteFile(lock, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(lock, old, old)
		// (the uidlist it protects unchanged as long: Dovecot's rule)
		os.Chtimes(filepath.Join(home, "Maildir", "dovecot-uidlist"), old, old)
		fill(t, u, 1)
	}
	// a lock of a dead process of this host
	host, _ := os.Hostname()
	if err := os.WriteFile(lock, []byte(fmt.Sprintf("%d:%s", 1<<30, host)), 0o600); err != nil {
		t.Fatal(err)
	}
	fill(t, u, 1)
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("lock left behind: %v", err)
	}
	// a live lock: the save waits and gives up with TEMP when ctx ends
	if err := os.WriteFile(lock, []byte(fmt.Sprintf("%d:%s", os.Getpid(), host)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err = u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(ifMsg), Size: -1})
	if storage.KindOf(err) != storage.KindTemp {
		t.Errorf("append under a live lock: %v", err)
	}
	os.Remove(lock)
	st, err := u.Status(bg, "INBOX")
	if err != nil || st.Messages != 4 {
		t.Fatalf("status = %+v, %v", st, err)
	}
	// a linked lock's temporary file is gone afterwards
	if tmps, _ := filepath.Glob(filepath.Join(home, "Maildir", ".temp.*")); len(tmps) > 0 {
		t.Errorf("temporary lock files left behind: %v", tmps)
	}
}

// TestSaveToCachedBox: a mailbox that only received saves stays cached
// between deliveries; a dovecot-uidlist recreated meanwhile (new
// UIDVALIDITY) is noticed by the next save, and nothing is lost.
func TestSaveToCachedBox(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	app := func() storage.AppendResult {
		t.Helper()
		r, err := u.Append(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(ifMsg), Size: -1})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	first := app()
	if r := app(); r.UIDValidity != first.UIDValidity || r.UID != first.UID+1 {
		t.Fatalf("second save = %+v after %+v", r, first)
	}
	if err := os.Remove(filepath.Join(home, "Maildir", "dovecot-uidlist")); err != nil {
		t.Fatal(err)
	}
	third := app()
	if third.UIDValidity == first.UIDValidity {
		t.Fatalf("save after the uidlist was recreated kept UIDVALIDITY %d", third.UIDValidity)
	}
	st, err := u.Status(bg, "INBOX")
	if err != nil || st.Messages != 3 || st.UIDValidity != third.UIDValidity {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

// TestSameTickWriter: an outside writer drops a file into new/ within the
// same directory timestamp as the last sync saw (simulated by restoring
// new/'s mtime). The stamp cannot show it, so the box reads new/ again
// once the stamp's dirty window has passed (Dovecot's MAILDIR_SYNC_SECS
// rule) and finds it then.
func TestSameTickWriter(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	clock := &stepClock{t: time.Now()}
	u, err := maildir.New(maildir.Options{Now: clock.now}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 2)
	newDir := filepath.Join(home, "Maildir", "new")
	tick := clock.now().Add(-time.Millisecond) // sub-second, and recent for the sync below
	if err := os.Chtimes(newDir, tick, tick); err != nil {
		t.Fatal(err)
	}
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if err := os.WriteFile(filepath.Join(newDir, "1795000000.M1P1.outside"), []byte(ifMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(newDir, tick, tick); err != nil {
		t.Fatal(err)
	}
	clock.add(time.Second) // past the window of a sub-second stamp
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if n := len(mb.Messages()); n != 3 {
		t.Errorf("after a same-tick delivery and the dirty window the view has %d messages, want 3", n)
	}
}

// TestSettledNewDir: while new/ is unchanged and older than the dirty
// window, a scan for a change in cur/ takes new/ from the state (a
// read-only view leaves new/ alone); the message in new/ stays, the
// change in cur/ is seen, and a file an outside writer then drops into
// new/ changes its stamp and is found.
func TestSettledNewDir(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 3) // the first has flags: in cur/
	newDir := filepath.Join(home, "Maildir", "new")
	if err := os.WriteFile(filepath.Join(newDir, "1795000000.M1P1.outside"), []byte(ifMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Minute - time.Millisecond)
	if err := os.Chtimes(newDir, old, old); err != nil {
		t.Fatal(err)
	}
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if n := len(mb.Messages()); n != 4 {
		t.Fatalf("opened with %d messages, want 4", n)
	}
	// an outside process flags the message in cur/
	curDir := filepath.Join(home, "Maildir", "cur")
	ents, err := os.ReadDir(curDir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("cur/ = %v, %v", ents, err)
	}
	from := filepath.Join(curDir, ents[0].Name())
	if err := os.Rename(from, from+"F"); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	msgs := mb.Messages()
	if len(msgs) != 4 || !slices.Contains(msgs[0].Flags, storage.FlagFlagged) {
		t.Fatalf("after the flag change: %+v", msgs)
	}
	if err := os.WriteFile(filepath.Join(newDir, "1795000001.M1P1.outside"), []byte(ifMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	if n := len(mb.Messages()); n != 5 {
		t.Errorf("after a delivery to new/ the view has %d messages, want 5", n)
	}
}

// TestNewUidValiditySettledDirs: dovecot-uidlist recreated with a new
// UIDVALIDITY while cur/ and new/ stay unchanged and settled: the next
// sync starts over and finds every file again.
func TestNewUidValiditySettledDirs(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	fill(t, u, 4)
	old := time.Now().Add(-time.Minute - time.Millisecond)
	for _, d := range []string{"cur", "new"} {
		if err := os.Chtimes(filepath.Join(home, "Maildir", d), old, old); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	st0, err := u.Status(bg, "INBOX")
	if err != nil || st0.Messages != 4 {
		t.Fatalf("status = %+v, %v", st0, err)
	}
	ul := filepath.Join(home, "Maildir", "dovecot-uidlist")
	if err := os.WriteFile(ul, []byte(fmt.Sprintf("3 V%d N1 G0123456789abcdef0123456789abcdef\n", st0.UIDValidity+7)), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := u.Status(bg, "INBOX")
	if err != nil || st.Messages != 4 || st.UIDValidity != st0.UIDValidity+7 {
		t.Fatalf("after a new UIDVALIDITY: status = %+v, %v", st, err)
	}
}
