package maildir_test

import (
	"context"
	"strings"
	"testing"

	"roost/internal/maildir"
	"roost/internal/storage"
)

func newMaildirUser(t *testing.T) (storage.User, storage.UserConfig) {
	t.Helper()
	cfg := storeConfig(t.TempDir(), "maildir:~/Maildir", ".", "")
	u, err := maildir.New(maildir.Options{}).OpenUser(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	return u, cfg
}

func appendMsg(t *testing.T, u storage.User, flags ...string) uint32 {
	t.Helper()
	body := "Subject: x\r\n\r\nbody\r\n"
	res, err := u.Append(context.Background(), "INBOX", storage.AppendMessage{
		Body: strings.NewReader(body), Size: int64(len(body)), Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return res.UID
}

func openBox(t *testing.T, u storage.User, ro bool) storage.Mailbox {
	t.Helper()
	mb, err := u.Open(context.Background(), "INBOX", storage.OpenOptions{ReadOnly: ro})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	return mb
}

func syncWith(t *testing.T, mb storage.Mailbox, opts storage.SyncOptions) *storage.Changes {
	t.Helper()
	ch, err := storage.SyncWith(context.Background(), mb, opts)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestSyncOptions: FlagsOnly applies flag changes only; NoExpunges adds
// new messages and keeps expunged ones with their last flags; a full
// Sync then reports the expunge.
func TestSyncOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, _ := newMaildirUser(t)
	appendMsg(t, u)
	appendMsg(t, u)
	a, b := openBox(t, u, false), openBox(t, u, false)
	uids := []uint32{a.Messages()[0].UID, a.Messages()[1].UID}
	if _, err := b.Store(ctx, uids, storage.FlagsAdd, []string{storage.FlagDeleted}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Expunge(ctx, uids[1:]); err != nil {
		t.Fatal(err)
	}
	appendMsg(t, u)

	ch := syncWith(t, a, storage.SyncOptions{FlagsOnly: true})
	if len(ch.Expunged) != 0 || ch.New != 0 || len(ch.Updated) != 2 || len(a.Messages()) != 2 {
		t.Fatalf("FlagsOnly: %+v, view %d", ch, len(a.Messages()))
	}
	for _, m := range a.Messages() {
		if len(m.Flags) != 1 || m.Flags[0] != storage.FlagDeleted {
			t.Fatalf("FlagsOnly: flags of %d = %v", m.UID, m.Flags)
		}
	}
	ch = syncWith(t, a, storage.SyncOptions{NoExpunges: true})
	if len(ch.Expunged) != 0 || ch.New != 1 || len(ch.Updated) != 0 || len(a.Messages()) != 3 {
		t.Fatalf("NoExpunges: %+v, view %d", ch, len(a.Messages()))
	}
	ch = syncWith(t, a, storage.SyncOptions{})
	if len(ch.Expunged) != 1 || ch.Expunged[0].Seq != 2 || len(a.Messages()) != 2 {
		t.Fatalf("full: %+v, view %d", ch, len(a.Messages()))
	}
	if ch = syncWith(t, a, storage.SyncOptions{}); len(ch.Expunged)+len(ch.Updated)+ch.New != 0 {
		t.Fatalf("second full sync: %+v", ch)
	}
}

// TestStoreKeepsOthersChanges: a view's own STORE does not hide an
// expunge made by another view before it.
func TestStoreKeepsOthersChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, _ := newMaildirUser(t)
	appendMsg(t, u)
	appendMsg(t, u)
	a, b := openBox(t, u, false), openBox(t, u, false)
	if err := b.Expunge(ctx, []uint32{b.Messages()[0].UID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store(ctx, []uint32{a.Messages()[1].UID}, storage.FlagsAdd, []string{storage.FlagSeen}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if ch := syncWith(t, a, storage.SyncOptions{}); len(ch.Expunged) != 1 {
		t.Fatalf("sync after own STORE: %+v", ch)
	}
}

// TestRecentOfAppendBeforeFirstOpen: a message saved with flags (into
// cur/) before any session loaded the mailbox is \Recent for the first
// session, as in Dovecot, even through a new Driver (another process).
func TestRecentOfAppendBeforeFirstOpen(t *testing.T) {
	t.Parallel()
	u, cfg := newMaildirUser(t)
	appendMsg(t, u, storage.FlagSeen)
	appendMsg(t, u)
	u2, err := maildir.New(maildir.Options{}).OpenUser(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer u2.Close()
	mb := openBox(t, u2, false)
	for _, m := range mb.Messages() {
		if !m.Recent {
			t.Fatalf("message %d not \\Recent", m.UID)
		}
	}
	if st := mb.Status(); st.Recent != 2 {
		t.Fatalf("RECENT %d, want 2", st.Recent)
	}
}
