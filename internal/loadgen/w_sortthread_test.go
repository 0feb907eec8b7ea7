package loadgen

import (
	"bytes"
	"testing"
)

// TestSortThreadMessages: the mailbox is the same for a seed, every
// message has its own Message-ID, and replies point at earlier messages.
func TestSortThreadMessages(t *testing.T) {
	t.Parallel()
	corpus := SyntheticMessages(3, 20, 1500)
	a, b := SortThreadMessages(corpus, 7, 500), SortThreadMessages(corpus, 7, 500)
	ids := map[string]bool{}
	replies := 0
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("message %d differs between runs with one seed", i)
		}
		hdr, body := splitMessage(a[i])
		if len(body) == 0 {
			t.Fatalf("message %d has no body", i)
		}
		id := headerValue(hdr, "Message-ID")
		if id == "" || ids[id] {
			t.Fatalf("message %d: Message-ID %q missing or repeated", i, id)
		}
		ids[id] = true
		if irt := headerValue(hdr, "In-Reply-To"); irt != "" {
			replies++
			if !ids[irt] || !bytes.HasPrefix([]byte(headerValue(hdr, "Subject")), []byte("Re: ")) {
				t.Fatalf("message %d replies to %q, not an earlier message, or has no Re:", i, irt)
			}
		}
		if n := bytes.Count(hdr, []byte("\nSubject:")) + bytes.Count(hdr[:min(len(hdr), 9)], []byte("Subject:")); n != 1 {
			t.Fatalf("message %d has %d Subject fields", i, n)
		}
	}
	if replies < 200 || replies > 400 {
		t.Errorf("%d replies of 500, want about 60%%", replies)
	}
}
