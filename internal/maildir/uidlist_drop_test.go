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

// TestUidlistDroppedRecords: with the uidlist's records dropped after
// every sync, a file written by another program still gets the next UID
// and the known ones keep theirs, POP3 UIDLs are saved and read, and the
// uidlist file keeps every line.
func TestUidlistDroppedRecords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	home := t.TempDir()
	d := maildir.New(maildir.Options{Now: later})
	maildir.SetUidlistKeep(d, 0)
	u, err := d.OpenUser(ctx, storeConfig(home, "maildir:~/Maildir", ".", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	for i := 0; i < 3; i++ {
		appendMsg(t, u)
	}
	mb, err := u.Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	px := mb.(interface {
		POP3UIDL(ctx context.Context, uid uint32) (string, error)
		SetPOP3UIDLs(ctx context.Context, uidls map[uint32]string) error
	})
	if err := px.SetPOP3UIDLs(ctx, map[uint32]string{2: "uidl-two"}); err != nil {
		t.Fatal(err)
	}
	syncWith(t, mb, storage.SyncOptions{}) // drops the records again
	name := filepath.Join(home, "Maildir", "cur", "1600000000.M1P1.outside:2,")
	if err := os.WriteFile(name, []byte("Subject: y\r\n\r\ny\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ch := syncWith(t, mb, storage.SyncOptions{})
	if ch.New != 1 || len(ch.Expunged) != 0 {
		t.Fatalf("sync after an outside file = %+v", ch)
	}
	var uids []uint32
	for _, m := range mb.Messages() {
		uids = append(uids, m.UID)
	}
	if len(uids) != 4 || uids[0] != 1 || uids[3] != 4 {
		t.Fatalf("UIDs = %v", uids)
	}
	if got, err := px.POP3UIDL(ctx, 2); err != nil || got != "uidl-two" {
		t.Fatalf("UIDL of 2 = %q, %v", got, err)
	}
	data, err := os.ReadFile(filepath.Join(home, "Maildir", "dovecot-uidlist"))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines != 5 {
		t.Fatalf("dovecot-uidlist has %d lines:\n%s", lines, data)
	}
}
