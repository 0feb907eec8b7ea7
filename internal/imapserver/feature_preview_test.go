package imapserver

import (
	"context"
	"io"
	"strings"
	"testing"

	"roost/internal/memstore"
	"roost/internal/storage"
)

const previewMsg = "From: Alice <alice@example.com>\r\nSubject: Lunch\r\n\r\n" +
	"Hi Bob,\r\n\r\n> Are we on for today?\r\nYes, see you at \"noon\"   in the usual place.\r\n"

// RFC 8970 section 3.2 and 4: PREVIEW, PREVIEW (LAZY); Dovecot's draft
// forms SNIPPET (FUZZY) and PREVIEW (FUZZY).
func TestFetchPreview(t *testing.T) {
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", previewMsg)
		ts.appendMsg("alice", "INBOX", "Subject: empty\r\nContent-Type: image/png\r\n\r\nxx\r\n")
		c := ts.login()
		c.cmd("a SELECT INBOX").ok()
		want := `PREVIEW "Hi Bob, Yes, see you at \"noon\" in the usual place."`
		c.cmd("b FETCH 1 (PREVIEW)").ok().equal(`* 1 FETCH (` + want + `)`)
		c.cmd("c UID FETCH 1 (PREVIEW (LAZY) FLAGS)").ok().equal(`* 1 FETCH (UID 1 ` + want + ` FLAGS (\Recent))`)
		c.cmd("d FETCH 1 (SNIPPET (FUZZY))").ok().
			equal(`* 1 FETCH (SNIPPET (FUZZY "Hi Bob, Yes, see you at \"noon\" in the usual place."))`)
		c.cmd("e FETCH 1 (PREVIEW (FUZZY) SNIPPET)").ok().
			equal(`* 1 FETCH (PREVIEW (FUZZY "Hi Bob, Yes, see you at \"noon\" in the usual place.") ` +
				`SNIPPET (FUZZY "Hi Bob, Yes, see you at \"noon\" in the usual place."))`)
		c.cmd("f FETCH 2 (PREVIEW)").ok().equal(`* 2 FETCH (PREVIEW "")`)
		// PREVIEW is not deduplicated (Dovecot answers it twice) and
		// never sets \Seen (RFC 8970 section 3.2).
		c.cmd("g FETCH 2 (PREVIEW PREVIEW (LAZY) FLAGS)").ok().equal(`* 2 FETCH (PREVIEW "" PREVIEW "" FLAGS (\Recent))`)
		c.cmd("h FETCH 1 (PREVIEW (FOO))").status("BAD Error in IMAP command FETCH: 'FOO' is not a supported PREVIEW modifier.")
		c.cmd("i FETCH 1 (PREVIEW ())").status("BAD Error in IMAP command FETCH: FETCH list contains non-atoms.")
		c.cmd("j FETCH 1 (SNIPPET (LAZY=FUZZY))").ok().
			equal(`* 1 FETCH (SNIPPET (FUZZY "Hi Bob, Yes, see you at \"noon\" in the usual place."))`)
		c.cmd("k CAPABILITY").ok().has("* CAPABILITY " + postLoginCaps)
	})
}

// RFC 8970 section 3.2: with LAZY the server may answer NIL when the
// preview is not cached; without LAZY it computes it.
func TestPreviewLazyNotCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	noPreview := func(msg io.ReaderAt, size int64) (map[string][]byte, error) {
		f, err := Fields(msg, size)
		delete(f, FieldPreview)
		return f, err
	}
	u, err := memstore.New(memstore.Options{}).OpenUser(ctx, storage.UserConfig{Username: "alice", Fields: noPreview})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	res, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(previewMsg), Size: -1, InternalDate: testNow})
	if err != nil {
		t.Fatal(err)
	}
	mb, err := u.Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	md := &msgData{mb: mb, uid: res.UID}
	defer md.close()
	if text, ok, err := md.preview(ctx, true); err != nil || ok || text != "" {
		t.Fatalf("lazy preview = %q, %v, %v; want NIL", text, ok, err)
	}
	if text, ok, err := md.preview(ctx, false); err != nil || !ok || !strings.HasPrefix(text, "Hi Bob, Yes") {
		t.Fatalf("preview = %q, %v, %v", text, ok, err)
	}
}

// The preview is computed when the message is saved: FETCH PREVIEW reads
// it from the field cache without opening or parsing the message.
func TestPreviewFromFieldCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := memstore.New(memstore.Options{}).OpenUser(ctx, storage.UserConfig{Username: "alice", Fields: Fields})
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	res, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(previewMsg), Size: -1, InternalDate: testNow})
	if err != nil {
		t.Fatal(err)
	}
	mb, err := u.Open(ctx, "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	for _, lazy := range []bool{false, true} {
		md := &msgData{mb: mb, uid: res.UID}
		text, ok, err := md.preview(ctx, lazy)
		if err != nil || !ok || !strings.HasPrefix(text, "Hi Bob, Yes") {
			t.Fatalf("preview(lazy=%v) = %q, %v, %v", lazy, text, ok, err)
		}
		if md.r != nil || md.root != nil {
			t.Errorf("preview(lazy=%v) opened the message", lazy)
		}
		md.close()
	}
}
