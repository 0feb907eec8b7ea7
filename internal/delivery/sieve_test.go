package delivery

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"roost/internal/sieve"
	"roost/internal/sievestore"
	"roost/internal/storage"
)

// sink is the test's outgoing mail: nothing leaves the process.
type sink struct {
	mu   sync.Mutex
	sent []string
}

func (s *sink) Send(_ context.Context, from string, to []string, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, "from=<"+from+"> to=<"+strings.Join(to, ",")+">\n"+string(msg))
	return nil
}

func newSieveTest(t *testing.T, plugin map[string]string) (*Deliverer, *testUsers, *sink) {
	t.Helper()
	out := &sink{}
	f, err := NewSieve(SieveOptions{
		Storage: func(_ context.Context, a Account) (*sievestore.Store, error) {
			cfg, err := sievestore.ParseConfig(plugin, a.Fields["home"])
			return sievestore.Open(cfg), err
		},
		Mailer: out, Hostname: "mx.example.net",
		Now: func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	d, u := newTest(t, nil, Options{Filter: f})
	return d, u, out
}

func activate(t *testing.T, u *testUsers, user, script string) *sievestore.Store {
	t.Helper()
	home := filepath.Join(u.root, user)
	os.MkdirAll(home, 0o700)
	cfg, _ := sievestore.ParseConfig(nil, home)
	st := sievestore.Open(cfg)
	if err := st.Put("main", []byte(script)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetActive("main"); err != nil {
		t.Fatal(err)
	}
	return st
}

const sieveMsg = "From: bob@example.org\r\nTo: alice@example.net\r\nSubject: [list] hello\r\nMessage-ID: <m1@example.org>\r\n\r\nbody\r\n"

func deliverTo(t *testing.T, d *Deliverer, user, sender string) Result {
	t.Helper()
	r, res := d.Resolve(context.Background(), user)
	if !res.OK() {
		t.Fatal(res)
	}
	r.Address = "alice@example.net"
	return d.Deliver(context.Background(), Envelope{Sender: sender}, r, Trace{}, spoolOf(sieveMsg))
}

func TestSieveFileIntoFlagsVacation(t *testing.T) {
	t.Parallel()
	d, u, out := newSieveTest(t, nil)
	activate(t, u, "alice", `require ["fileinto", "mailbox", "imap4flags", "vacation"];
vacation :days 1 :subject "Away" "I am away.";
if header :contains "Subject" "[list]" {
  addflag "\\Flagged";
  fileinto :create "Lists";
  stop;
}
`)
	for i := 0; i < 2; i++ {
		if res := deliverTo(t, d, "alice", "bob@example.org"); !res.OK() {
			t.Fatalf("delivery %d: %+v", i, res)
		}
	}
	if got := messages(t, u, "alice", "Lists"); len(got) != 2 {
		t.Fatalf("Lists has %d messages", len(got))
	}
	if got := messages(t, u, "alice", "INBOX"); len(got) != 0 {
		t.Errorf("INBOX has %d messages", len(got))
	}
	if len(out.sent) != 1 || !strings.Contains(out.sent[0], "Subject: Away") || !strings.HasPrefix(out.sent[0], "from=<> to=<bob@example.org>") {
		t.Errorf("vacation replies: %q", out.sent)
	}
}

func TestSieveBrokenScriptKeeps(t *testing.T) {
	t.Parallel()
	d, u, _ := newSieveTest(t, nil)
	st := activate(t, u, "alice", "keep;\n")
	// Break the script behind the storage's back, as an editor would.
	os.WriteFile(filepath.Join(st.Config().Dir, "main.sieve"), []byte("require \"fileinto\";\nfileinto \"x\"\nkeep;\n"), 0o600)
	if res := deliverTo(t, d, "alice", "bob@example.org"); !res.OK() {
		t.Fatalf("delivery: %+v", res)
	}
	if got := messages(t, u, "alice", "INBOX"); len(got) != 1 {
		t.Fatalf("INBOX has %d messages", len(got))
	}
	b, err := os.ReadFile(st.LogPath())
	if err != nil || !strings.Contains(string(b), "main: line 2: error:") {
		t.Errorf("user log %q %v", b, err)
	}
}

func TestSieveRejectAndDiscard(t *testing.T) {
	t.Parallel()
	d, u, out := newSieveTest(t, map[string]string{"sieve_before": "", "sieve_after": ""})
	activate(t, u, "alice", "require \"reject\";\nreject \"go away\";\n")
	if res := deliverTo(t, d, "alice", "bob@example.org"); !res.OK() {
		t.Fatalf("delivery: %+v", res)
	}
	if got := messages(t, u, "alice", "INBOX"); len(got) != 0 {
		t.Errorf("rejected message stored")
	}
	if len(out.sent) != 1 || !strings.Contains(out.sent[0], "go away") {
		t.Errorf("rejection: %q", out.sent)
	}
}

func TestSieveBeforeAndDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	before := filepath.Join(dir, "before.sieve")
	def := filepath.Join(dir, "default.sieve")
	os.WriteFile(before, []byte("require \"imap4flags\";\naddflag \"$Before\";\n"), 0o600)
	os.WriteFile(def, []byte("require \"fileinto\";\nfileinto :copy \"Copies\";\n"), 0o600)
	d, u, _ := newSieveTest(t, map[string]string{"sieve_before": before, "sieve_default": def})
	_ = sieve.DefaultConfig
	if res := deliverTo(t, d, "alice", "bob@example.org"); !res.OK() {
		t.Fatalf("delivery: %+v", res)
	}
	// fileinto into a missing mailbox falls back to INBOX.
	if got := messages(t, u, "alice", "INBOX"); len(got) == 0 {
		t.Errorf("INBOX empty")
	}
}

// TestSieveMetadata: with mboxmetadata enabled, a script reads the
// recipient's METADATA entries through the storage.
func TestSieveMetadata(t *testing.T) {
	t.Parallel()
	cfg, err := sieve.ParseConfig(map[string]string{"sieve_extensions": "+mboxmetadata"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewSieve(SieveOptions{
		Storage: func(_ context.Context, a Account) (*sievestore.Store, error) {
			c, err := sievestore.ParseConfig(nil, a.Fields["home"])
			return sievestore.Open(c), err
		},
		Config: cfg, Hostname: "mx.example.net",
	})
	if err != nil {
		t.Fatal(err)
	}
	d, u := newTest(t, nil, Options{Filter: f})
	activate(t, u, "alice", "require [\"fileinto\", \"mboxmetadata\"];\n"+
		"if metadata :is \"INBOX\" \"/private/comment\" \"vip\" { fileinto \"VIP\"; }\n")
	ctx := context.Background()
	acct, err := u.Lookup(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	su, err := u.Open(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	ms, ok := su.(storage.MetadataStore)
	if !ok {
		su.Close()
		t.Skip("storage driver keeps no METADATA")
	}
	if err := ms.SetMetadata(ctx, "INBOX", []storage.MetadataEntry{{Name: "/private/comment", Value: []byte("vip")}}); err != nil {
		t.Fatal(err)
	}
	if err := su.Create(ctx, "VIP", nil); err != nil {
		t.Fatal(err)
	}
	su.Close()
	if res := deliverTo(t, d, "alice", "bob@example.org"); !res.OK() {
		t.Fatalf("delivery: %+v", res)
	}
	if got := messages(t, u, "alice", "VIP"); len(got) != 1 {
		t.Errorf("VIP holds %d messages, want 1", len(got))
	}
}

// TestSieveEreject: ereject refuses the message with 550 5.7.1 and the
// reason where the caller can refuse (LMTP, LDA -e), and is a reject (a
// rejection sent to the sender, delivery accepted) where it cannot.
func TestSieveEreject(t *testing.T) {
	t.Parallel()
	cfg, err := sieve.ParseConfig(map[string]string{"sieve_extensions": "+ereject"})
	if err != nil {
		t.Fatal(err)
	}
	out := &sink{}
	f, err := NewSieve(SieveOptions{
		Storage: func(_ context.Context, a Account) (*sievestore.Store, error) {
			c, err := sievestore.ParseConfig(nil, a.Fields["home"])
			return sievestore.Open(c), err
		},
		Config: cfg, Mailer: out, Hostname: "mx.example.net",
	})
	if err != nil {
		t.Fatal(err)
	}
	d, u := newTest(t, nil, Options{Filter: f})
	activate(t, u, "alice", "require \"ereject\";\nereject \"not wanted\";\n")
	for _, canRefuse := range []bool{true, false} {
		r, res := d.Resolve(context.Background(), "alice")
		if !res.OK() {
			t.Fatal(res)
		}
		r.Address = "alice@example.net"
		res = d.Deliver(context.Background(), Envelope{Sender: "bob@example.org", CanRefuse: canRefuse}, r, Trace{}, spoolOf(sieveMsg))
		switch {
		case canRefuse && (res.Code != 550 || res.Enhanced != "5.7.1" || res.Text != "not wanted"):
			t.Errorf("refusable: %+v, want 550 5.7.1 not wanted", res)
		case !canRefuse && !res.OK():
			t.Errorf("not refusable: %+v, want accepted", res)
		}
	}
	if len(out.sent) != 1 || !strings.Contains(out.sent[0], "not wanted") {
		t.Errorf("rejections sent: %d, want 1 (the non-refusable delivery)", len(out.sent))
	}
	if got := messages(t, u, "alice", "INBOX"); len(got) != 0 {
		t.Errorf("%d messages stored", len(got))
	}
}
