package storagetest

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

// Config describes the driver under test.
type Config struct {
	// NewUser returns a user with an empty, private mail store.
	NewUser func(t *testing.T) storage.User
	// Reopen, if set, closes u and opens the same store again (a new
	// process, as far as the driver can tell).
	Reopen func(t *testing.T, u storage.User) storage.User
}

// Run runs the conformance suite with newUser.
func Run(t *testing.T, newUser func(t *testing.T) storage.User) {
	RunConfig(t, Config{NewUser: newUser})
}

// RunConfig runs the conformance suite.
func RunConfig(t *testing.T, c Config) {
	tests := []struct {
		name string
		fn   func(t *testing.T, c Config)
	}{
		{"Mailboxes", testMailboxes},
		{"Subscriptions", testSubscriptions},
		{"AppendStatusOpen", testAppend},
		{"AppendEmpty", testAppendEmpty},
		{"FlagsKeywords", testFlags},
		{"ExpungeSync", testExpunge},
		{"TwoViews", testTwoViews},
		{"CopyMove", testCopyMove},
		{"Recent", testRecent},
		{"UIDsNotReused", testUIDsNotReused},
		{"ReadOnly", testReadOnly},
		{"InvalidNames", testInvalidNames},
		{"Metadata", testMetadata},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, c)
		})
	}
}

var ctx = context.Background()

const msg1 = "From: a@example.org\r\nTo: b@example.org\r\nSubject: one\r\n\r\nHello\r\nworld\r\n"
const msg2 = "From: c@example.org\r\nSubject: two\r\n\r\nBody two\r\n"

func sep(u storage.User) string {
	for _, ns := range u.Namespaces() {
		if ns.Prefix == "" || ns.Inbox {
			return ns.Separator
		}
	}
	return u.Namespaces()[0].Separator
}

func prefix(u storage.User) string {
	for _, ns := range u.Namespaces() {
		if ns.Inbox {
			return ns.Prefix
		}
	}
	return ""
}

func wantKind(t *testing.T, err error, kinds ...storage.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want kind %v", kinds)
	}
	if !slices.Contains(kinds, storage.KindOf(err)) {
		t.Fatalf("got error %v (kind %v), want kind %v", err, storage.KindOf(err), kinds)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func appendMsg(t *testing.T, u storage.User, box, body string, flags ...string) uint32 {
	t.Helper()
	res, err := u.Append(ctx, box, storage.AppendMessage{Body: strings.NewReader(body), Size: int64(len(body)), Flags: flags})
	if err != nil {
		t.Fatalf("append to %s: %v", box, err)
	}
	return res.UID
}

func openBox(t *testing.T, u storage.User, name string, ro bool) storage.Mailbox {
	t.Helper()
	mb, err := u.Open(ctx, name, storage.OpenOptions{ReadOnly: ro})
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { mb.Close() })
	return mb
}

func syncBox(t *testing.T, mb storage.Mailbox) *storage.Changes {
	t.Helper()
	ch, err := mb.Sync(ctx)
	if err != nil {
		t.Fatalf("sync %s: %v", mb.Name(), err)
	}
	return ch
}

func uids(mb storage.Mailbox) []uint32 {
	var out []uint32
	for _, m := range mb.Messages() {
		out = append(out, m.UID)
	}
	return out
}

func readAll(t *testing.T, mb storage.Mailbox, uid uint32) string {
	t.Helper()
	r, err := mb.Open(ctx, uid)
	if err != nil {
		t.Fatalf("open message %d: %v", uid, err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func listNames(t *testing.T, u storage.User) map[string][]string {
	t.Helper()
	l, err := u.List(ctx)
	must(t, err)
	out := map[string][]string{}
	for _, mi := range l {
		out[mi.Name] = mi.Attrs
	}
	return out
}

func testMailboxes(t *testing.T, c Config) {
	u := c.NewUser(t)
	s, p := sep(u), prefix(u)
	foo, bar := p+"Foo", p+"Foo"+s+"Bar"
	must(t, u.Create(ctx, foo, nil))
	must(t, u.Create(ctx, bar, nil))
	wantKind(t, u.Create(ctx, foo, nil), storage.KindExists)
	l := listNames(t, u)
	for _, n := range []string{"INBOX", foo, bar} {
		if _, ok := l[n]; !ok {
			t.Fatalf("List lacks %q: %v", n, l)
		}
	}
	if !slices.Contains(l[foo], storage.AttrHasChildren) {
		t.Errorf("%s attrs = %v, want \\HasChildren", foo, l[foo])
	}
	baz := p + "Baz"
	must(t, u.Rename(ctx, foo, baz))
	l = listNames(t, u)
	if _, ok := l[foo]; ok {
		t.Errorf("renamed mailbox still listed: %v", l)
	}
	if _, ok := l[baz+s+"Bar"]; !ok {
		t.Errorf("child not renamed: %v", l)
	}
	wantKind(t, u.Rename(ctx, p+"Nope", p+"Nope2"), storage.KindNotFound)
	wantKind(t, u.Delete(ctx, p+"Nope"), storage.KindNotFound)
	if err := u.Delete(ctx, "INBOX"); err == nil {
		t.Error("deleting INBOX succeeded")
	}
	must(t, u.Delete(ctx, baz+s+"Bar"))
	l = listNames(t, u)
	if _, ok := l[baz+s+"Bar"]; ok {
		t.Errorf("deleted mailbox still listed: %v", l)
	}
	_, err := u.Status(ctx, baz+s+"Bar")
	wantKind(t, err, storage.KindNotFound)
	// a mailbox survives a reopen of the user
	if c.Reopen != nil {
		u = c.Reopen(t, u)
		if _, ok := listNames(t, u)[baz]; !ok {
			t.Errorf("mailbox lost after reopen")
		}
	}
}

func testSubscriptions(t *testing.T, c Config) {
	u := c.NewUser(t)
	p := prefix(u)
	must(t, u.Create(ctx, p+"Work", nil))
	must(t, u.SetSubscribed(ctx, p+"Work", true))
	must(t, u.SetSubscribed(ctx, "INBOX", true))
	must(t, u.SetSubscribed(ctx, p+"Work", true)) // twice is fine
	subs, err := u.Subscriptions(ctx)
	must(t, err)
	slices.Sort(subs)
	want := []string{"INBOX", p + "Work"}
	slices.Sort(want)
	if !slices.Equal(subs, want) {
		t.Fatalf("subscriptions = %q, want %q", subs, want)
	}
	must(t, u.SetSubscribed(ctx, p+"Work", false))
	subs, err = u.Subscriptions(ctx)
	must(t, err)
	if !slices.Equal(subs, []string{"INBOX"}) {
		t.Fatalf("after unsubscribe = %q", subs)
	}
	// subscribing a mailbox that does not exist is allowed (RFC 3501 6.3.6)
	must(t, u.SetSubscribed(ctx, p+"Ghost", true))
}

// testAppendEmpty: a zero-byte message is stored, as Dovecot's storage
// does (its LDA saves an empty input); IMAP APPEND refuses it itself.
func testAppendEmpty(t *testing.T, c Config) {
	u := c.NewUser(t)
	_, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(""), Size: 0})
	must(t, err)
	mb := openBox(t, u, "INBOX", true)
	msgs := mb.Messages()
	if len(msgs) != 1 || msgs[0].Size != 0 {
		t.Fatalf("empty message: %+v", msgs)
	}
	r, err := mb.Open(ctx, msgs[0].UID)
	must(t, err)
	defer r.Close()
	if r.Size() != 0 {
		t.Fatalf("empty message reads %d bytes", r.Size())
	}
}

func testAppend(t *testing.T, c Config) {
	u := c.NewUser(t)
	date := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)
	res, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg1), Size: -1, InternalDate: date})
	must(t, err)
	if res.UID != 1 || res.UIDValidity == 0 {
		t.Fatalf("append result = %+v", res)
	}
	lfBody := strings.ReplaceAll(msg2, "\r\n", "\n")
	uid2 := appendMsg(t, u, "INBOX", lfBody)
	if uid2 != 2 {
		t.Fatalf("second UID = %d", uid2)
	}
	_, err = u.Append(ctx, prefix(u)+"Missing", storage.AppendMessage{Body: strings.NewReader(msg1), Size: -1})
	wantKind(t, err, storage.KindNotFound)

	st, err := u.Status(ctx, "INBOX")
	must(t, err)
	if st.Messages != 2 || st.UIDNext != 3 || st.Unseen != 2 || st.UIDValidity != res.UIDValidity {
		t.Fatalf("status = %+v", st)
	}
	if st.Size != int64(len(msg1)+len(msg2)) {
		t.Errorf("status size = %d, want %d", st.Size, len(msg1)+len(msg2))
	}
	mb := openBox(t, u, "INBOX", false)
	ms := mb.Messages()
	if len(ms) != 2 || ms[0].UID != 1 || ms[1].UID != 2 {
		t.Fatalf("messages = %+v", ms)
	}
	if !ms[0].InternalDate.Equal(date) {
		t.Errorf("internal date = %v, want %v", ms[0].InternalDate, date)
	}
	if ms[0].Size != int64(len(msg1)) || ms[1].Size != int64(len(msg2)) {
		t.Errorf("sizes = %d %d", ms[0].Size, ms[1].Size)
	}
	if got := readAll(t, mb, 1); got != msg1 {
		t.Errorf("message 1 = %q", got)
	}
	if got := readAll(t, mb, 2); got != msg2 {
		t.Errorf("message 2 (saved with LF) = %q, want CRLF form", got)
	}
	r, err := mb.Open(ctx, 1)
	must(t, err)
	buf := make([]byte, 7)
	n, err := r.ReadAt(buf, int64(strings.Index(msg1, "Hello")))
	if n != 7 || string(buf) != "Hello\r\n" {
		t.Errorf("ReadAt = %q, %v", buf[:n], err)
	}
	r.Close()
	if st := mb.Status(); st.Messages != 2 || st.UIDNext != 3 {
		t.Errorf("view status = %+v", st)
	}
}

func testFlags(t *testing.T, c Config) {
	u := c.NewUser(t)
	uid := appendMsg(t, u, "INBOX", msg1, storage.FlagSeen, "$Forwarded")
	appendMsg(t, u, "INBOX", msg2)
	mb := openBox(t, u, "INBOX", false)
	m := mb.Messages()[0]
	if !slices.Equal(m.Flags, []string{"$Forwarded", storage.FlagSeen}) {
		t.Fatalf("flags after append = %q", m.Flags)
	}
	before := m.ModSeq
	res, err := mb.Store(ctx, []uint32{uid}, storage.FlagsAdd, []string{storage.FlagFlagged, "Junk"}, storage.StoreOptions{})
	must(t, err)
	if len(res.Updated) != 1 || res.Updated[0].ModSeq <= before {
		t.Fatalf("store result = %+v", res)
	}
	want := []string{"$Forwarded", "Junk", storage.FlagFlagged, storage.FlagSeen}
	slices.Sort(want)
	if got := mb.Messages()[0].Flags; !slices.Equal(got, want) {
		t.Fatalf("flags = %q, want %q", got, want)
	}
	_, err = mb.Store(ctx, []uint32{uid}, storage.FlagsRemove, []string{storage.FlagSeen, "$Forwarded"}, storage.StoreOptions{})
	must(t, err)
	want = []string{"Junk", storage.FlagFlagged}
	slices.Sort(want)
	if got := mb.Messages()[0].Flags; !slices.Equal(got, want) {
		t.Fatalf("after remove = %q, want %q", got, want)
	}
	_, err = mb.Store(ctx, []uint32{1, 2}, storage.FlagsSet, []string{storage.FlagAnswered, storage.FlagDraft, storage.FlagDeleted}, storage.StoreOptions{})
	must(t, err)
	want = []string{storage.FlagAnswered, storage.FlagDeleted, storage.FlagDraft}
	slices.Sort(want)
	for _, m := range mb.Messages() {
		if !slices.Equal(m.Flags, want) {
			t.Fatalf("after set uid %d = %q, want %q", m.UID, m.Flags, want)
		}
	}
	// CONDSTORE: an old UNCHANGEDSINCE refuses.
	old := mb.Messages()[0].ModSeq - 1
	res, err = mb.Store(ctx, []uint32{1}, storage.FlagsAdd, []string{storage.FlagSeen}, storage.StoreOptions{UnchangedSince: old})
	must(t, err)
	if !slices.Equal(res.Modified, []uint32{1}) || len(res.Updated) != 0 {
		t.Fatalf("unchangedsince result = %+v", res)
	}
	// a new view sees the same flags
	mb2 := openBox(t, u, "INBOX", false)
	if got := mb2.Messages()[0].Flags; !slices.Equal(got, want) {
		t.Fatalf("other view flags = %q", got)
	}
	st := mb2.Status()
	if !slices.Contains(st.Keywords, "Junk") {
		t.Errorf("status keywords = %q", st.Keywords)
	}
	if st.HighestModSeq < mb.Messages()[1].ModSeq {
		t.Errorf("highestmodseq %d < message modseq %d", st.HighestModSeq, mb.Messages()[1].ModSeq)
	}
	if c.Reopen != nil {
		u = c.Reopen(t, u)
		mb3 := openBox(t, u, "INBOX", false)
		if got := mb3.Messages()[0].Flags; !slices.Equal(got, want) {
			t.Fatalf("flags after reopen = %q", got)
		}
		if mb3.Status().HighestModSeq < st.HighestModSeq {
			t.Errorf("HIGHESTMODSEQ went back after reopen: %d < %d", mb3.Status().HighestModSeq, st.HighestModSeq)
		}
	}
}

func testExpunge(t *testing.T, c Config) {
	u := c.NewUser(t)
	for i := 0; i < 5; i++ {
		appendMsg(t, u, "INBOX", msg1)
	}
	a := openBox(t, u, "INBOX", false)
	b := openBox(t, u, "INBOX", false)
	must(t, b.Expunge(ctx, []uint32{2, 4}))
	if len(b.Messages()) != 5 {
		t.Fatalf("view changed before Sync")
	}
	for _, mb := range []storage.Mailbox{a, b} {
		ch := syncBox(t, mb)
		want := []storage.Expunge{{UID: 2, Seq: 2}, {UID: 4, Seq: 3}}
		if !slices.Equal(ch.Expunged, want) {
			t.Fatalf("%v: expunged = %+v, want %+v", mb, ch.Expunged, want)
		}
		if got := uids(mb); !slices.Equal(got, []uint32{1, 3, 5}) {
			t.Fatalf("uids = %v", got)
		}
	}
	// EXPUNGE of \Deleted
	_, err := a.Store(ctx, []uint32{1, 5}, storage.FlagsAdd, []string{storage.FlagDeleted}, storage.StoreOptions{})
	must(t, err)
	must(t, a.Expunge(ctx, nil))
	ch := syncBox(t, a)
	if !slices.Equal(ch.Expunged, []storage.Expunge{{UID: 1, Seq: 1}, {UID: 5, Seq: 2}}) {
		t.Fatalf("expunge deleted: %+v", ch.Expunged)
	}
	if _, err := a.Open(ctx, 1); err == nil {
		t.Errorf("opening an expunged message succeeded")
	}
	st, err := u.Status(ctx, "INBOX")
	must(t, err)
	if st.Messages != 1 {
		t.Errorf("status after expunge = %+v", st)
	}
}

func testTwoViews(t *testing.T, c Config) {
	u := c.NewUser(t)
	appendMsg(t, u, "INBOX", msg1)
	a := openBox(t, u, "INBOX", false)
	b := openBox(t, u, "INBOX", false)
	_, err := b.Store(ctx, []uint32{1}, storage.FlagsAdd, []string{storage.FlagSeen}, storage.StoreOptions{})
	must(t, err)
	select {
	case <-a.Notify():
	default:
		t.Fatal("no notification after another view's store")
	}
	ch := syncBox(t, a)
	if len(ch.Updated) != 1 || !slices.Contains(ch.Updated[0].Flags, storage.FlagSeen) {
		t.Fatalf("updated = %+v", ch.Updated)
	}
	// b's own change is not reported back to b
	if ch := syncBox(t, b); len(ch.Updated) != 0 {
		t.Errorf("own store reported as update: %+v", ch.Updated)
	}
	appendMsg(t, u, "INBOX", msg2)
	select {
	case <-a.Notify():
	default:
		t.Fatal("no notification after append")
	}
	ch = syncBox(t, a)
	if ch.New != 1 || len(a.Messages()) != 2 {
		t.Fatalf("after append: %+v, %d messages", ch, len(a.Messages()))
	}
}

func testCopyMove(t *testing.T, c Config) {
	u := c.NewUser(t)
	dst := prefix(u) + "Archive"
	must(t, u.Create(ctx, dst, nil))
	appendMsg(t, u, dst, msg2) // dst UID 1 taken
	appendMsg(t, u, "INBOX", msg1, storage.FlagSeen, "Work")
	appendMsg(t, u, "INBOX", msg2)
	appendMsg(t, u, "INBOX", msg1)
	src := openBox(t, u, "INBOX", false)
	res, err := src.Copy(ctx, []uint32{3, 1}, dst, false)
	must(t, err)
	if !slices.Equal(res.SrcUIDs, []uint32{1, 3}) || !slices.Equal(res.DstUIDs, []uint32{2, 3}) || res.UIDValidity == 0 {
		t.Fatalf("copy result = %+v", res)
	}
	d := openBox(t, u, dst, false)
	if got := uids(d); !slices.Equal(got, []uint32{1, 2, 3}) {
		t.Fatalf("dest uids = %v", got)
	}
	if got := d.Messages()[1].Flags; !slices.Equal(got, []string{"Work", storage.FlagSeen}) {
		t.Errorf("copied flags = %q", got)
	}
	if got := readAll(t, d, 2); got != msg1 {
		t.Errorf("copied content = %q", got)
	}
	res, err = src.Copy(ctx, []uint32{2}, dst, true)
	must(t, err)
	if !slices.Equal(res.DstUIDs, []uint32{4}) {
		t.Fatalf("move result = %+v", res)
	}
	ch := syncBox(t, src)
	if !slices.Equal(ch.Expunged, []storage.Expunge{{UID: 2, Seq: 2}}) {
		t.Fatalf("move expunges = %+v", ch.Expunged)
	}
	_, err = src.Copy(ctx, []uint32{1}, prefix(u)+"Nowhere", false)
	wantKind(t, err, storage.KindNotFound)
}

func testRecent(t *testing.T, c Config) {
	u := c.NewUser(t)
	appendMsg(t, u, "INBOX", msg1)
	appendMsg(t, u, "INBOX", msg2)
	a := openBox(t, u, "INBOX", false)
	if st := a.Status(); st.Recent != 2 {
		t.Fatalf("first view recent = %d", st.Recent)
	}
	b := openBox(t, u, "INBOX", false)
	if st := b.Status(); st.Recent != 0 {
		t.Fatalf("second view recent = %d", st.Recent)
	}
	appendMsg(t, u, "INBOX", msg1)
	syncBox(t, b)
	syncBox(t, a)
	if !b.Messages()[2].Recent || a.Messages()[2].Recent {
		t.Fatalf("recent of new message: a=%v b=%v", a.Messages()[2].Recent, b.Messages()[2].Recent)
	}
	if !a.Messages()[0].Recent {
		t.Errorf("first view lost \\Recent")
	}
}

func testUIDsNotReused(t *testing.T, c Config) {
	u := c.NewUser(t)
	for i := 0; i < 3; i++ {
		appendMsg(t, u, "INBOX", msg1)
	}
	mb := openBox(t, u, "INBOX", false)
	must(t, mb.Expunge(ctx, []uint32{3}))
	syncBox(t, mb)
	must(t, mb.Close())
	if c.Reopen != nil {
		u = c.Reopen(t, u)
	}
	if uid := appendMsg(t, u, "INBOX", msg2); uid != 4 {
		t.Fatalf("UID after expunge of 3 = %d, want 4", uid)
	}
	st, err := u.Status(ctx, "INBOX")
	must(t, err)
	// deleting and recreating a mailbox gives a new UIDVALIDITY
	name := prefix(u) + "Tmp"
	must(t, u.Create(ctx, name, nil))
	appendMsg(t, u, name, msg1)
	st1, err := u.Status(ctx, name)
	must(t, err)
	must(t, u.Delete(ctx, name))
	must(t, u.Create(ctx, name, nil))
	appendMsg(t, u, name, msg1)
	st2, err := u.Status(ctx, name)
	must(t, err)
	if st1.UIDValidity == st2.UIDValidity {
		t.Errorf("recreated mailbox kept UIDVALIDITY %d", st1.UIDValidity)
	}
	if st.UIDNext != 5 {
		t.Errorf("UIDNEXT = %d", st.UIDNext)
	}
}

func testReadOnly(t *testing.T, c Config) {
	u := c.NewUser(t)
	appendMsg(t, u, "INBOX", msg1)
	ro := openBox(t, u, "INBOX", true)
	if !ro.ReadOnly() {
		t.Fatal("ReadOnly() = false")
	}
	_, err := ro.Store(ctx, []uint32{1}, storage.FlagsAdd, []string{storage.FlagSeen}, storage.StoreOptions{})
	if err == nil {
		t.Fatal("store in read-only view succeeded")
	}
	if err := ro.Expunge(ctx, nil); err == nil {
		t.Fatal("expunge in read-only view succeeded")
	}
	rw := openBox(t, u, "INBOX", false)
	if !rw.Messages()[0].Recent {
		t.Errorf("read-only view claimed \\Recent")
	}
}

func testInvalidNames(t *testing.T, c Config) {
	u := c.NewUser(t)
	s, p := sep(u), prefix(u)
	for _, n := range []string{p + "..", p + "a" + s + ".." + s + "b", p + "a/b/../../../etc", p + "bad\x01name", p + "a" + s + s + "b"} {
		if s == "/" && strings.Count(n, "/") > 0 && n == p+"a/b/../../../etc" {
			n = p + "a" + s + ".." + s + ".." + s + "etc"
		}
		err := u.Create(ctx, n, nil)
		if err == nil {
			t.Errorf("Create(%q) succeeded", n)
			continue
		}
		if k := storage.KindOf(err); k != storage.KindParams && k != storage.KindNotPossible {
			t.Errorf("Create(%q): kind %v (%v), want PARAMS", n, k, err)
		}
	}
	// non-ASCII names round-trip
	name := p + "Entwürfe" + s + "日本"
	must(t, u.Create(ctx, name, nil))
	if _, ok := listNames(t, u)[name]; !ok {
		t.Errorf("List lacks %q", name)
	}
}

// IsKind reports whether err has one of kinds.
func IsKind(err error, kinds ...storage.Kind) bool {
	var se *storage.Error
	return errors.As(err, &se) && slices.Contains(kinds, se.Kind)
}
