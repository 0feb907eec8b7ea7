package maildir_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// TestFieldsAtSave: the fields computed at save time (from the message
// still in memory when it was written in one piece, else from the file)
// see the same CRLF content as a later read.
func TestFieldsAtSave(t *testing.T) {
	t.Parallel()
	cfg := storeConfig(t.TempDir(), "maildir:~/Maildir", "/", "")
	var mu sync.Mutex
	seen := map[int64][]byte{}
	cfg.Fields = func(r io.ReaderAt, size int64) (map[string][]byte, error) {
		buf := make([]byte, size)
		n, err := r.ReadAt(buf, 0)
		if int64(n) != size {
			return nil, fmt.Errorf("read %d of %d: %v", n, size, err)
		}
		mu.Lock()
		seen[size] = buf
		mu.Unlock()
		return map[string][]byte{"ALL": buf}, nil
	}
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{
		"Subject: a\r\n\r\nline\r\nbare\rcr\nlf only\n",
		"Subject: b\n\n" + strings.Repeat("x", 100<<10) + "\r\nend\r", // over the 64 KiB buffer
	}
	for _, body := range bodies {
		for _, size := range []int64{int64(len(body)), -1} {
			r, err := u.Append(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(body), Size: size})
			if err != nil {
				t.Fatal(err)
			}
			mb, err := u.Open(bg, "INBOX", storage.OpenOptions{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := mb.Field(bg, r.UID, "ALL")
			if err != nil {
				t.Fatal(err)
			}
			rd, err := mb.Open(bg, r.UID)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]byte, rd.Size())
			rd.ReadAt(want, 0)
			rd.Close()
			mb.Close()
			if !bytes.Equal(got, want) {
				t.Errorf("size hint %d: fields saw %d bytes %.40q, the file reads %d bytes %.40q", size, len(got), got, len(want), want)
			}
		}
	}
}

// TestDeliveryRemakesDirs: new/ or tmp/ removed behind a cached mailbox's
// back is made again by the next delivery, as on a first access.
func TestDeliveryRemakesDirs(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	da := u.(deliveryAppender)
	deliver := func() {
		t.Helper()
		msg := "Subject: x\n\nbody\n"
		if err := da.AppendDelivery(bg, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg), Size: int64(len(msg))}); err != nil {
			t.Fatal(err)
		}
	}
	deliver()
	for _, d := range []string{"new", "tmp"} {
		if err := os.RemoveAll(filepath.Join(home, "Maildir", d)); err != nil {
			t.Fatal(err)
		}
		deliver()
	}
	if st, err := u.Status(bg, "INBOX"); err != nil || st.Messages != 2 {
		t.Fatalf("status = %+v, %v", st, err)
	}
}
