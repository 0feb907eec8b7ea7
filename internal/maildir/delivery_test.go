package maildir_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"roost/internal/maildir"
	"roost/internal/storage"
)

type deliveryAppender interface {
	AppendDelivery(ctx context.Context, name string, msg storage.AppendMessage) error
}

// TestAppendDelivery: delivered messages are filed into new/ without a
// UID; a view open meanwhile numbers them when it syncs. A flagged
// delivery is numbered at once, so it precedes an earlier unnumbered one
// (Dovecot's LMTP orders them the same when it skips the uidlist).
func TestAppendDelivery(t *testing.T) {
	t.Parallel()
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, storeConfig(t.TempDir(), "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	da, ok := u.(deliveryAppender)
	if !ok {
		t.Fatalf("%T has no AppendDelivery", u)
	}
	deliver := func(i int, flags ...string) {
		t.Helper()
		msg := fmt.Sprintf("Subject: d%d\n\nbody %d\n", i, i)
		if err := da.AppendDelivery(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg), Size: int64(len(msg)), Flags: flags}); err != nil {
			t.Fatal(err)
		}
	}
	deliver(1)
	deliver(2)
	mb, err := u.Open(bg, "INBOX", storage.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	deliver(3)
	deliver(4, storage.FlagFlagged)
	if _, err := mb.Sync(bg); err != nil {
		t.Fatal(err)
	}
	msgs := mb.Messages()
	if len(msgs) != 4 {
		t.Fatalf("view has %d messages, want 4", len(msgs))
	}
	order := []int{1, 2, 4, 3}
	for i, m := range msgs {
		r, err := mb.Open(bg, m.UID)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, _ := r.ReadAt(buf, 0)
		r.Close()
		if want := fmt.Sprintf("Subject: d%d\r\n", order[i]); !strings.HasPrefix(string(buf[:n]), want) || m.UID != uint32(i+1) {
			t.Errorf("message %d: UID %d, %q; want UID %d, %q", i, m.UID, buf[:n], i+1, want)
		}
	}
}
