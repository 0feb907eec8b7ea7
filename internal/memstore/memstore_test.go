package memstore

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"roost/internal/storage"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newUserT(t *testing.T, d *Driver, fields storage.FieldFunc) storage.User {
	t.Helper()
	u, err := d.OpenUser(context.Background(), storage.UserConfig{
		Username: "alice", Fields: fields, Now: func() time.Time { return t0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func appendT(t *testing.T, u storage.User, box, body string, flags ...string) uint32 {
	t.Helper()
	res, err := u.Append(context.Background(), box, storage.AppendMessage{
		Body: strings.NewReader(body), Size: -1, Flags: flags,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.UID
}

func openT(t *testing.T, u storage.User, box string, ro bool) storage.Mailbox {
	t.Helper()
	mb, err := u.Open(context.Background(), box, storage.OpenOptions{ReadOnly: ro})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mb.Close() })
	return mb
}

func uidsOf(msgs []storage.Message) []uint32 {
	var out []uint32
	for _, m := range msgs {
		out = append(out, m.UID)
	}
	return out
}

func TestAppendOpenCRLF(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := newUserT(t, New(Options{}), nil)
	appendT(t, u, "inbox", "Subject: hi\n\nbody\n", `\seen`, "$Label", `\Recent`)
	mb := openT(t, u, "INBOX", false)
	msgs := mb.Messages()
	if len(msgs) != 1 || msgs[0].Size != 21 || !msgs[0].Recent {
		t.Fatalf("messages = %+v", msgs)
	}
	if want := []string{"$Label", `\Seen`}; !slices.Equal(msgs[0].Flags, want) {
		t.Errorf("flags = %q, want %q", msgs[0].Flags, want)
	}
	r, err := mb.Open(ctx, msgs[0].UID)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if string(b) != "Subject: hi\r\n\r\nbody\r\n" {
		t.Errorf("body = %q", b)
	}
	if !msgs[0].InternalDate.Equal(t0) {
		t.Errorf("internal date = %v", msgs[0].InternalDate)
	}
	if _, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader("")}); err != nil {
		t.Errorf("empty append (stored, as Dovecot's LDA does): %v", err)
	}
	if _, err := u.Append(ctx, "Nope", storage.AppendMessage{Body: strings.NewReader("x")}); storage.KindOf(err) != storage.KindNotFound {
		t.Errorf("append to missing: %v", err)
	}
}

func TestRecentClaimedOnce(t *testing.T) {
	t.Parallel()
	u := newUserT(t, New(Options{}), nil)
	appendT(t, u, "INBOX", "a\r\n")
	ro := openT(t, u, "INBOX", true)
	rw1 := openT(t, u, "INBOX", false)
	rw2 := openT(t, u, "INBOX", false)
	if got := []int{ro.Status().Recent, rw1.Status().Recent, rw2.Status().Recent}; !slices.Equal(got, []int{1, 1, 0}) {
		t.Fatalf("recent = %v, want [1 1 0]", got)
	}
	appendT(t, u, "INBOX", "b\r\n")
	ch2, _ := rw2.Sync(context.Background())
	ch1, _ := rw1.Sync(context.Background())
	if ch1.New != 1 || ch2.New != 1 || rw2.Status().Recent != 1 || rw1.Status().Recent != 1 {
		t.Fatalf("after new mail: rw1 %+v rw2 %+v", rw1.Status(), rw2.Status())
	}
}

func TestSyncExpungeOrderAndNotify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := newUserT(t, New(Options{}), nil)
	for i := 0; i < 11; i++ {
		appendT(t, u, "INBOX", "m\r\n")
	}
	a := openT(t, u, "INBOX", false)
	b := openT(t, u, "INBOX", false)
	del := []uint32{3, 4, 7, 11}
	if _, err := a.Store(ctx, del, storage.FlagsAdd, []string{`\Deleted`}, storage.StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.Notify():
	default:
		t.Fatal("b not notified of flag change")
	}
	if err := a.Expunge(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if len(a.Messages()) != 11 {
		t.Fatal("view changed before Sync")
	}
	ch, err := a.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Expunge{{UID: 11, Seq: 11}, {UID: 7, Seq: 7}, {UID: 4, Seq: 4}, {UID: 3, Seq: 3}}
	if !slices.Equal(ch.Expunged, want) || len(ch.Updated) != 0 {
		t.Fatalf("a changes = %+v", ch)
	}
	chb, _ := b.Sync(ctx)
	if !slices.Equal(chb.Expunged, want) || len(chb.Updated) != 0 {
		t.Fatalf("b changes = %+v (flag updates of expunged messages must not be reported)", chb)
	}
	if got := uidsOf(b.Messages()); !slices.Equal(got, []uint32{1, 2, 5, 6, 8, 9, 10}) {
		t.Fatalf("b uids = %v", got)
	}
	if uid := appendT(t, u, "INBOX", "n\r\n"); uid != 12 {
		t.Fatalf("UID reused: %d", uid)
	}
}

func TestStoreUpdatesOthers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := newUserT(t, New(Options{}), nil)
	appendT(t, u, "INBOX", "m\r\n")
	appendT(t, u, "INBOX", "m\r\n")
	a := openT(t, u, "INBOX", false)
	b := openT(t, u, "INBOX", false)
	res, err := a.Store(ctx, []uint32{2, 1, 9}, storage.FlagsAdd, []string{"Work"}, storage.StoreOptions{})
	if err != nil || len(res.Updated) != 2 || res.Updated[0].UID != 1 {
		t.Fatalf("store = %+v, %v", res, err)
	}
	res, _ = a.Store(ctx, []uint32{1}, storage.FlagsAdd, []string{"work"}, storage.StoreOptions{})
	if len(res.Updated) != 0 {
		t.Errorf("keyword case: %+v", res)
	}
	if kw := a.Status().Keywords; !slices.Equal(kw, []string{"Work"}) {
		t.Errorf("keywords = %q", kw)
	}
	ch, _ := a.Sync(ctx)
	if len(ch.Updated) != 0 {
		t.Errorf("own changes reported: %+v", ch)
	}
	ch, _ = b.Sync(ctx)
	if len(ch.Updated) != 2 || !slices.Equal(ch.Updated[1].Flags, []string{"Work"}) {
		t.Errorf("b changes: %+v", ch)
	}
	ro := openT(t, u, "INBOX", true)
	if _, err := ro.Store(ctx, []uint32{1}, storage.FlagsAdd, []string{`\Seen`}, storage.StoreOptions{}); storage.KindOf(err) != storage.KindPerm {
		t.Errorf("read-only store: %v", err)
	}
	hi := a.Messages()[0].ModSeq
	res, _ = a.Store(ctx, []uint32{1, 2}, storage.FlagsAdd, []string{`\Seen`}, storage.StoreOptions{UnchangedSince: hi})
	if !slices.Equal(res.Modified, []uint32{2}) || len(res.Updated) != 1 {
		t.Errorf("unchangedsince: %+v", res)
	}
	if _, err := a.Store(ctx, []uint32{1}, storage.FlagsAdd, []string{`\Bogus`}, storage.StoreOptions{}); storage.KindOf(err) != storage.KindParams {
		t.Errorf("bogus flag: %v", err)
	}
}

func TestCopyMove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := newUserT(t, New(Options{}), nil)
	for i := 0; i < 3; i++ {
		appendT(t, u, "INBOX", "m\r\n", `\Flagged`)
	}
	if err := u.Create(ctx, "Dst", nil); err != nil {
		t.Fatal(err)
	}
	appendT(t, u, "Dst", "x\r\n")
	src := openT(t, u, "INBOX", false)
	res, err := src.Copy(ctx, []uint32{3, 1, 77}, "Dst", false)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := u.Status(ctx, "Dst")
	if !slices.Equal(res.SrcUIDs, []uint32{1, 3}) || !slices.Equal(res.DstUIDs, []uint32{2, 3}) || res.UIDValidity != st.UIDValidity {
		t.Fatalf("copy = %+v", res)
	}
	if st.Messages != 3 || st.Recent != 3 {
		t.Errorf("dst status = %+v", st)
	}
	if _, err := src.Copy(ctx, []uint32{1}, "Missing", false); storage.KindOf(err) != storage.KindNotFound {
		t.Errorf("copy to missing: %v", err)
	}
	res, err = src.Copy(ctx, []uint32{2}, "Dst", true)
	if err != nil || !slices.Equal(res.DstUIDs, []uint32{4}) {
		t.Fatalf("move = %+v %v", res, err)
	}
	ch, _ := src.Sync(ctx)
	if !slices.Equal(ch.Expunged, []storage.Expunge{{UID: 2, Seq: 2}}) {
		t.Errorf("move expunges = %+v", ch.Expunged)
	}
	d := openT(t, u, "Dst", true)
	if f := d.Messages()[3].Flags; !slices.Equal(f, []string{`\Flagged`}) {
		t.Errorf("moved flags = %q", f)
	}
}

func TestHierarchy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := newUserT(t, New(Options{Separator: "."}), nil)
	for _, n := range []string{"a.b.c", "x", "inbox.child"} {
		if err := u.Create(ctx, n, nil); err != nil {
			t.Fatal(n, err)
		}
	}
	if err := u.Create(ctx, "Inbox", nil); storage.KindOf(err) != storage.KindExists {
		t.Errorf("create Inbox: %v", err)
	}
	if err := u.Create(ctx, "a..b", nil); storage.KindOf(err) != storage.KindParams {
		t.Errorf("create a..b: %v", err)
	}
	list, _ := u.List(ctx)
	got := map[string]string{}
	for _, mi := range list {
		got[mi.Name] = strings.Join(mi.Attrs, " ")
	}
	want := map[string]string{
		"INBOX": `\HasChildren`, "INBOX.child": `\HasNoChildren`, "a": `\Noselect \HasChildren`,
		"a.b": `\Noselect \HasChildren`, "a.b.c": `\HasNoChildren`, "x": `\HasNoChildren`,
	}
	if len(got) != len(want) {
		t.Fatalf("list = %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if err := u.Rename(ctx, "a.b.c", "x.y"); err != nil {
		t.Fatal(err)
	}
	if err := u.Rename(ctx, "x", "z"); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Status(ctx, "z.y"); err != nil {
		t.Errorf("child not renamed: %v", err)
	}
	if err := u.Delete(ctx, "INBOX"); storage.KindOf(err) != storage.KindNotPossible {
		t.Errorf("delete INBOX: %v", err)
	}
}

func TestRenameInboxKeepsUIDsGrowing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := newUserT(t, New(Options{}), nil)
	appendT(t, u, "INBOX", "m\r\n")
	if err := u.Rename(ctx, "INBOX", "Old"); err != nil {
		t.Fatal(err)
	}
	st, _ := u.Status(ctx, "INBOX")
	old, _ := u.Status(ctx, "Old")
	if st.Messages != 0 || old.Messages != 1 || st.UIDNext != 2 {
		t.Fatalf("inbox %+v old %+v", st, old)
	}
	if err := u.Delete(ctx, "Old"); err != nil {
		t.Fatal(err)
	}
	if err := u.Create(ctx, "Old", nil); err != nil {
		t.Fatal(err)
	}
	again, _ := u.Status(ctx, "Old")
	if again.UIDValidity == old.UIDValidity {
		t.Error("UIDVALIDITY reused after delete+create")
	}
}

func TestSubscriptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u := newUserT(t, New(Options{}), nil)
	u.SetSubscribed(ctx, "Gone", true)
	u.SetSubscribed(ctx, "inbox", true)
	u.SetSubscribed(ctx, "Gone", true)
	subs, _ := u.Subscriptions(ctx)
	if !slices.Equal(subs, []string{"Gone", "INBOX"}) {
		t.Errorf("subs = %q", subs)
	}
	u.SetSubscribed(ctx, "Gone", false)
	subs, _ = u.Subscriptions(ctx)
	if !slices.Equal(subs, []string{"INBOX"}) {
		t.Errorf("subs = %q", subs)
	}
}

func TestFieldsAndSharedUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := New(Options{})
	calls := 0
	fields := func(r io.ReaderAt, size int64) (map[string][]byte, error) {
		calls++
		return map[string][]byte{"size": []byte(strings.Repeat("x", int(size)))}, nil
	}
	u1 := newUserT(t, d, fields)
	appendT(t, u1, "INBOX", "ab\n")
	u2 := newUserT(t, d, fields)
	mb := openT(t, u2, "INBOX", false)
	b, err := mb.Field(ctx, 1, "size")
	if err != nil || string(b) != "xxxx" || calls != 1 {
		t.Fatalf("field = %q %v calls %d", b, err, calls)
	}
	if _, err := mb.Field(ctx, 1, "nope"); storage.KindOf(err) != storage.KindNotFound {
		t.Errorf("unknown field: %v", err)
	}
	if _, err := mb.Open(ctx, 5); !errors.As(err, new(*storage.Error)) {
		t.Errorf("open missing: %v", err)
	}
}

func TestNamespacesWithPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := New(Options{})
	u, err := d.OpenUser(ctx, storage.UserConfig{Username: "bob", Namespaces: []storage.NamespaceConfig{{
		Name: "inbox", Prefix: "INBOX.", Separator: ".", Inbox: true,
		Mailboxes: []storage.MailboxConfig{{Name: "Sent", SpecialUse: []string{`\Sent`}, Auto: "subscribe"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := u.List(ctx)
	var names []string
	for _, mi := range list {
		names = append(names, mi.Name)
	}
	if !slices.Equal(names, []string{"INBOX", "INBOX.Sent"}) {
		t.Fatalf("list = %q", names)
	}
	if list[1].SpecialUse[0] != `\Sent` {
		t.Errorf("special use = %q", list[1].SpecialUse)
	}
	if err := u.Create(ctx, "inbox.Foo", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Status(ctx, "INBOX.Foo"); err != nil {
		t.Errorf("status: %v", err)
	}
	subs, _ := u.Subscriptions(ctx)
	if !slices.Equal(subs, []string{"INBOX.Sent"}) {
		t.Errorf("subs = %q", subs)
	}
}
