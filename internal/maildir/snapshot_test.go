package maildir_test

import (
	"context"
	"reflect"
	"testing"

	"roost/internal/storage"
)

// TestSnapshotViews: views opened on the same box state share its
// records, yet a STORE in one view changes neither the other view's flags
// nor its counts until that view syncs; EXPUNGE and new messages reach a
// view only at its sync, and its counts follow.
func TestSnapshotViews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, _ := newMaildirUser(t)
	for i := 0; i < 4; i++ {
		appendMsg(t, u)
	}
	a, b := openBox(t, u, false), openBox(t, u, false)
	ro := openBox(t, u, true)
	for _, mb := range []storage.Mailbox{a, b, ro} {
		if st := mb.Status(); st.Messages != 4 || st.Unseen != 4 || st.FirstUnseen != 1 {
			t.Fatalf("status at open = %+v", st)
		}
	}
	if _, err := a.Store(ctx, []uint32{1, 3}, storage.FlagsAdd, []string{`\Seen`}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.Unseen != 2 || st.FirstUnseen != 2 {
		t.Fatalf("storing view: status = %+v", st)
	}
	if st := b.Status(); st.Unseen != 4 || st.FirstUnseen != 1 {
		t.Fatalf("other view changed before its sync: status = %+v", st)
	}
	if f := b.Messages()[0].Flags; len(f) != 0 {
		t.Fatalf("other view sees flags %v before its sync", f)
	}
	ch := syncWith(t, b, storage.SyncOptions{})
	if len(ch.Updated) != 2 {
		t.Fatalf("sync updates = %+v", ch.Updated)
	}
	if st := b.Status(); st.Unseen != 2 || st.FirstUnseen != 2 {
		t.Fatalf("other view after sync: status = %+v", st)
	}
	if err := a.Expunge(ctx, []uint32{2}); err != nil {
		t.Fatal(err)
	}
	appendMsg(t, u)
	if st := b.Status(); st.Messages != 4 {
		t.Fatalf("expunge or append visible before sync: %+v", st)
	}
	ch = syncWith(t, b, storage.SyncOptions{})
	if len(ch.Expunged) != 1 || ch.Expunged[0].UID != 2 || ch.New != 1 {
		t.Fatalf("sync = %+v", ch)
	}
	st := b.Status()
	if st.Messages != 4 || st.Unseen != 2 || st.FirstUnseen != 3 {
		t.Fatalf("after expunge and append: status = %+v", st)
	}
	uids := func(mb storage.Mailbox) []uint32 {
		var out []uint32
		for _, m := range mb.Messages() {
			out = append(out, m.UID)
		}
		return out
	}
	syncWith(t, a, storage.SyncOptions{})
	if got, want := uids(a), []uint32{1, 3, 4, 5}; !reflect.DeepEqual(got, want) {
		t.Fatalf("view a = %v, want %v", got, want)
	}
	if got := uids(ro); !reflect.DeepEqual(got, []uint32{1, 2, 3, 4}) {
		t.Fatalf("read-only view moved before its sync: %v", got)
	}
	syncWith(t, ro, storage.SyncOptions{})
	if got := uids(ro); !reflect.DeepEqual(got, []uint32{1, 3, 4, 5}) {
		t.Fatalf("read-only view after sync = %v", got)
	}
}

// TestSnapshotRecent: \Recent stays with the view that claimed it, though
// views share their records; a read-only view shows unclaimed messages
// as recent.
func TestSnapshotRecent(t *testing.T) {
	t.Parallel()
	u, _ := newMaildirUser(t)
	appendMsg(t, u)
	appendMsg(t, u)
	ro := openBox(t, u, true)
	if st := ro.Status(); st.Recent != 2 {
		t.Fatalf("read-only view before any claim: recent = %d", st.Recent)
	}
	a := openBox(t, u, false)
	b := openBox(t, u, false)
	if ra, rb := a.Status().Recent, b.Status().Recent; ra != 2 || rb != 0 {
		t.Fatalf("recent: claiming view %d, later view %d", ra, rb)
	}
	if !a.Messages()[0].Recent || b.Messages()[0].Recent {
		t.Fatal("\\Recent of the claiming view leaked into the shared records")
	}
	appendMsg(t, u)
	syncWith(t, b, storage.SyncOptions{})
	syncWith(t, a, storage.SyncOptions{})
	if ra, rb := a.Status().Recent, b.Status().Recent; ra != 2 || rb != 1 {
		t.Fatalf("after a new message: recent %d (first claimer), %d (second)", ra, rb)
	}
	ch := syncWith(t, ro, storage.SyncOptions{})
	if st := ro.Status(); st.Recent != 0 || st.Messages != 3 || len(ch.Updated) != 2 || ch.New != 1 {
		t.Fatalf("read-only view after the claims: status %+v, changes %+v", st, ch)
	}
}
