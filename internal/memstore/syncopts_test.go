package memstore

import (
	"context"
	"testing"

	"roost/internal/storage"
)

// TestSyncOptions: FlagsOnly applies flag changes only; NoExpunges adds
// new messages and keeps expunged ones with their last flags; a full
// Sync then reports the expunge.
func TestSyncOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := newUserT(t, New(Options{}), nil)
	appendT(t, u, "INBOX", "Subject: 1\r\n\r\n1\r\n")
	appendT(t, u, "INBOX", "Subject: 2\r\n\r\n2\r\n")
	a, b := openT(t, u, "INBOX", false), openT(t, u, "INBOX", false)
	uids := uidsOf(a.Messages())
	if _, err := b.Store(ctx, uids, storage.FlagsAdd, []string{storage.FlagDeleted}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Expunge(ctx, uids[1:]); err != nil {
		t.Fatal(err)
	}
	appendT(t, u, "INBOX", "Subject: 3\r\n\r\n3\r\n")
	sync := func(opts storage.SyncOptions) *storage.Changes {
		t.Helper()
		ch, err := storage.SyncWith(ctx, a, opts)
		if err != nil {
			t.Fatal(err)
		}
		return ch
	}
	ch := sync(storage.SyncOptions{FlagsOnly: true})
	if len(ch.Expunged) != 0 || ch.New != 0 || len(ch.Updated) != 2 || len(a.Messages()) != 2 {
		t.Fatalf("FlagsOnly: %+v, view %d", ch, len(a.Messages()))
	}
	ch = sync(storage.SyncOptions{NoExpunges: true})
	if len(ch.Expunged) != 0 || ch.New != 1 || len(ch.Updated) != 0 || len(a.Messages()) != 3 {
		t.Fatalf("NoExpunges: %+v, view %d", ch, len(a.Messages()))
	}
	ch = sync(storage.SyncOptions{})
	if len(ch.Expunged) != 1 || ch.Expunged[0].Seq != 2 || len(a.Messages()) != 2 {
		t.Fatalf("full: %+v, view %d", ch, len(a.Messages()))
	}
}
