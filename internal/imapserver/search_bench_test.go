package imapserver

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"roost/internal/memstore"
	"roost/internal/storage"
)

// benchMailbox returns a memstore mailbox of n messages of about 6 KB
// each: a header, a text part and a base64 attachment.
func benchMailbox(b *testing.B, n int) storage.Mailbox {
	b.Helper()
	ctx := context.Background()
	drv := memstore.New(memstore.Options{})
	user, err := drv.OpenUser(ctx, storage.UserConfig{Username: "bench", Fields: Fields, Now: func() time.Time { return h5Date }})
	if err != nil {
		b.Fatal(err)
	}
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 60)
	attach := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n", 60)
	for i := range n {
		msg := fmt.Sprintf("From: Sender %d <sender%d@example.com>\r\nTo: rcpt@example.org\r\n"+
			"Subject: message number %d\r\nDate: Mon, 2 Jan 2006 15:04:05 -0700\r\nMIME-Version: 1.0\r\n"+
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n%s\r\n"+
			"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n%s--b--\r\n", i, i, i, text, attach)
		if _, err := user.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg), Size: -1, InternalDate: h5Date}); err != nil {
			b.Fatal(err)
		}
	}
	mb, err := user.Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { mb.Close() })
	return mb
}

// BenchmarkSearch measures one SEARCH over 1,000 messages per key kind.
// Header keys read the cached header block; BODY and TEXT read bodies.
func BenchmarkSearch(b *testing.B) {
	mb := benchMailbox(b, 1000)
	for _, key := range []string{
		"FROM sender999", "SUBJECT \"number 5\"", "HEADER To rcpt", "SENTSINCE 1-Jan-2006",
		"BODY lazy", "TEXT nomatch", "LARGER 100",
	} {
		b.Run(key, func(b *testing.B) {
			prog, err := parseSearch(testDecoder(key+"\r\n"), "SEARCH")
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				s := newSearcher(mb, time.UTC, h5Date)
				if _, err := s.run(context.Background(), prog); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
