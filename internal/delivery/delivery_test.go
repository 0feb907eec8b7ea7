package delivery

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"roost/internal/maildir"
	"roost/internal/storage"
	"roost/internal/vfs"
)

// testUsers is the in-memory twin of the userdb + storage the server
// wires: users by name, each with a Maildir under root.
type testUsers struct {
	root    string
	drv     storage.Driver
	known   []string
	lookErr error
}

func (u *testUsers) Lookup(_ context.Context, user string) (Account, error) {
	if u.lookErr != nil {
		return Account{}, u.lookErr
	}
	if !slices.Contains(u.known, user) {
		return Account{}, ErrUnknownUser
	}
	return Account{User: user, Fields: map[string]string{"home": filepath.Join(u.root, user)}}, nil
}

func (u *testUsers) Open(ctx context.Context, a Account) (storage.User, error) {
	home := a.Fields["home"]
	return u.drv.OpenUser(ctx, storage.UserConfig{
		Username: a.User, Home: home, UID: -1, GID: -1,
		Namespaces: []storage.NamespaceConfig{{Name: "inbox", Type: "private", Separator: "/",
			Location: "maildir:" + filepath.Join(home, "Maildir"), Inbox: true, List: "yes", Subscriptions: true}},
	})
}

func newTest(t *testing.T, fsys vfs.FS, opts Options) (*Deliverer, *testUsers) {
	t.Helper()
	u := &testUsers{root: t.TempDir(), drv: maildir.New(maildir.Options{FS: fsys}), known: []string{"alice", "bob@example.net", "a+b"}}
	opts.Users = u
	if opts.RecipientDelimiter == "" {
		opts.RecipientDelimiter = "+"
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, u
}

func spoolOf(s string) *Spool {
	sp := NewSpool("", 0)
	sp.Write([]byte(s))
	return sp
}

// messages returns the stored messages of a mailbox, in UID order.
func messages(t *testing.T, u *testUsers, user, box string) []string {
	t.Helper()
	ctx := context.Background()
	su, err := u.Open(ctx, Account{User: user, Fields: map[string]string{"home": filepath.Join(u.root, user)}})
	if err != nil {
		t.Fatal(err)
	}
	defer su.Close()
	mb, err := su.Open(ctx, box, storage.OpenOptions{ReadOnly: true})
	if storage.KindOf(err) == storage.KindNotFound {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	var out []string
	for _, m := range mb.Messages() {
		r, err := mb.Open(ctx, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
		r.Close()
		out = append(out, string(b))
	}
	return out
}

const msg = "Subject: hi\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n"

func TestResolve(t *testing.T) {
	t.Parallel()
	d, u := newTest(t, nil, Options{})
	ctx := context.Background()
	for _, tc := range []struct {
		addr, user, detail, enh string
	}{
		{"alice", "alice", "", "2.1.5"},
		{"alice+work", "alice", "work", "2.1.5"},
		{"bob+x+y@example.net", "bob@example.net", "x+y", "2.1.5"},
		{"a+b", "a+b", "", "2.1.5"}, // a user whose name holds the delimiter
		{"nobody", "", "", "5.1.1"},
	} {
		r, res := d.Resolve(ctx, tc.addr)
		if res.Enhanced != tc.enh || r.Account.User != tc.user || r.Detail != tc.detail {
			t.Errorf("Resolve(%q) = %+v %+v, want user %q detail %q %s", tc.addr, r, res, tc.user, tc.detail, tc.enh)
		}
	}
	_, res := d.Resolve(ctx, "nobody")
	if res.Text != "User doesn't exist: nobody" || res.Code != 550 {
		t.Errorf("unknown user: %+v", res)
	}
	u.lookErr = errors.New("connection refused")
	_, res = d.Resolve(ctx, "alice")
	if res.Code != 451 || res.Enhanced != "4.3.0" || res.UnknownUser() {
		t.Errorf("userdb down must be temporary, got %+v", res)
	}
}

func TestDeliverHeaders(t *testing.T) {
	t.Parallel()
	d, u := newTest(t, nil, Options{})
	ctx := context.Background()
	r, _ := d.Resolve(ctx, "alice")
	tr := Trace{ReturnPath: true, Sender: "s@example.org", DeliveredTo: "alice",
		Received: &Received{Helo: "client.example", RemoteIP: "127.0.0.1", Hostname: "mail.example.net",
			SessionID: "ID", For: "alice", Time: time.Date(2026, 11, 21, 23, 55, 59, 0, time.UTC)}}
	res := d.Deliver(ctx, Envelope{Sender: "s@example.org"}, r, tr, spoolOf(msg))
	if !res.OK() || res.Mailbox != "INBOX" {
		t.Fatalf("deliver: %+v", res)
	}
	got := messages(t, u, "alice", "INBOX")
	want := "Return-Path: <s@example.org>\r\nDelivered-To: alice\r\nReceived: from client.example ([127.0.0.1])\r\n" +
		"\tby mail.example.net with LMTP\r\n\tid ID\r\n\t(envelope-from <s@example.org>)\r\n\tfor <alice>; Sat, 21 Nov 2026 23:55:59 +0000\r\n" + msg
	if len(got) != 1 || got[0] != want {
		t.Fatalf("stored:\n%q\nwant\n%q", got, want)
	}
}

func TestDetailMailbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name               string
		opts               Options
		existing           bool
		wantBox            string
		wantSubscribedWork bool
	}{
		{"existing", Options{SaveToDetailMailbox: true}, true, "work", false},
		{"missing falls back to INBOX", Options{SaveToDetailMailbox: true}, false, "INBOX", false},
		{"autocreate", Options{SaveToDetailMailbox: true, Autocreate: true}, false, "work", false},
		{"autosubscribe", Options{SaveToDetailMailbox: true, Autocreate: true, Autosubscribe: true}, false, "work", true},
		{"detail ignored", Options{}, true, "INBOX", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, u := newTest(t, nil, tc.opts)
			r, _ := d.Resolve(ctx, "alice+work")
			su, _ := u.Open(ctx, r.Account)
			if tc.existing {
				if err := su.Create(ctx, "work", nil); err != nil {
					t.Fatal(err)
				}
			}
			res := d.Deliver(ctx, Envelope{}, r, Trace{}, spoolOf(msg))
			if !res.OK() || res.Mailbox != tc.wantBox {
				t.Fatalf("got %+v, want saved to %s", res, tc.wantBox)
			}
			if got := messages(t, u, "alice", tc.wantBox); len(got) != 1 || got[0] != msg {
				t.Fatalf("%s holds %q", tc.wantBox, got)
			}
			subs, _ := su.Subscriptions(ctx)
			if slices.Contains(subs, "work") != tc.wantSubscribedWork {
				t.Errorf("subscriptions %v", subs)
			}
			su.Close()
		})
	}
}

func TestMailboxFlagLDA(t *testing.T) {
	t.Parallel()
	d, u := newTest(t, nil, Options{})
	ctx := context.Background()
	r, _ := d.Resolve(ctx, "alice")
	r.Mailbox = "Missing"
	if res := d.Deliver(ctx, Envelope{}, r, Trace{}, spoolOf(msg)); res.Mailbox != "INBOX" {
		t.Fatalf("-m Missing: %+v", res)
	}
	if got := messages(t, u, "alice", "INBOX"); len(got) != 1 {
		t.Fatalf("INBOX holds %d", len(got))
	}
}

// TestDiskFull: every write or sync failure answers a temporary failure
// and leaves nothing in the mailbox.
func TestWriteFaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op      vfs.Op
		err     error
		code    int
		enh     string
		nthFail int
	}{
		{vfs.OpWrite, syscall.ENOSPC, 452, "4.3.1", 1},
		{vfs.OpWrite, syscall.EDQUOT, 452, "4.3.1", 1},
		{vfs.OpSync, syscall.EIO, 451, "4.3.0", 1},
		{vfs.OpLink, syscall.ENOSPC, 452, "4.3.1", 1},
		{vfs.OpCreate, syscall.EACCES, 451, "4.3.0", 1},
	} {
		t.Run(tc.op.String()+"/"+tc.err.Error(), func(t *testing.T) {
			t.Parallel()
			fsys := vfs.NewFaulty(vfs.OS{})
			d, u := newTest(t, fsys, Options{})
			ctx := context.Background()
			r, _ := d.Resolve(ctx, "alice")
			// Create the Maildir first, so the fault hits the message.
			if res := d.Deliver(ctx, Envelope{}, r, Trace{}, spoolOf(msg)); !res.OK() {
				t.Fatalf("first delivery: %+v", res)
			}
			fsys.FailAll(tc.op, tc.err)
			res := d.Deliver(ctx, Envelope{}, r, Trace{}, spoolOf("Subject: second\r\n\r\nx\r\n"))
			fsys.Reset()
			if res.Code != tc.code || res.Enhanced != tc.enh || !res.Temporary() {
				t.Fatalf("got %+v, want %d %s", res, tc.code, tc.enh)
			}
			got := messages(t, u, "alice", "INBOX")
			if len(got) != 1 || got[0] != msg {
				t.Fatalf("after failure INBOX holds %q", got)
			}
			newDir, _ := os.ReadDir(filepath.Join(u.root, "alice", "Maildir", "new"))
			curDir, _ := os.ReadDir(filepath.Join(u.root, "alice", "Maildir", "cur"))
			if len(newDir)+len(curDir) != 1 {
				t.Fatalf("half-visible message: new=%d cur=%d", len(newDir), len(curDir))
			}
		})
	}
}

type filterFunc func(context.Context, *Mail) ([]Action, error)

func (f filterFunc) Filter(ctx context.Context, m *Mail) ([]Action, error) { return f(ctx, m) }

func TestFilterHook(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	spam := filterFunc(func(_ context.Context, m *Mail) ([]Action, error) {
		switch {
		case m.Header("X-Spam-Flag") == "YES":
			return []Action{{Kind: FileInto, Mailbox: "Spam", Create: true}}, nil
		case strings.Contains(m.Header("Subject"), "drop"):
			return []Action{{Kind: Discard}}, nil
		case strings.Contains(m.Header("Subject"), "broken"):
			return nil, errors.New("script error")
		}
		return nil, nil
	})
	d, u := newTest(t, nil, Options{Filter: spam})
	r, _ := d.Resolve(ctx, "alice")
	for _, m := range []string{"X-Spam-Flag: YES\r\n\r\nspam\r\n", "Subject: drop\r\n\r\n", "Subject: broken\r\n\r\n", "Subject: ok\r\n\r\n"} {
		if res := d.Deliver(ctx, Envelope{}, r, Trace{}, spoolOf(m)); !res.OK() {
			t.Fatalf("%q: %+v", m, res)
		}
	}
	if got := messages(t, u, "alice", "Spam"); len(got) != 1 {
		t.Errorf("Spam holds %d", len(got))
	}
	if got := messages(t, u, "alice", "INBOX"); len(got) != 2 {
		t.Errorf("INBOX holds %d, want broken + ok", len(got))
	}
}

func TestSpoolSpills(t *testing.T) {
	t.Parallel()
	s := NewSpool(t.TempDir(), 8)
	defer s.Close()
	for _, p := range []string{"0123", "4567", "89ab"} {
		s.Write([]byte(p))
	}
	if s.f == nil {
		t.Fatal("spool did not spill to a file")
	}
	b := make([]byte, s.Size())
	if _, err := s.ReadAt(b, 0); err != nil || string(b) != "0123456789ab" {
		t.Fatalf("read back %q %v", b, err)
	}
}
