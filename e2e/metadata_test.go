package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetadataDictInteropDovecotToRoost: Dovecot 2.3 (imap_metadata = yes, mail_attribute_dict =
// file:%h/Maildir/dovecot-attributes) writes mailbox and server METADATA entries; roost reads
// the same entries from its dict file, changes them, and Dovecot reads roost's changes.
func TestMetadataDictInteropDovecotToRoost(t *testing.T) {
	t.Parallel()
	roostCase(t, func(t testing.TB) { metadataRoundTrip(t, "dovecot", "roost") })
}

// TestMetadataDictInteropRoostToDovecot is the reverse: roost writes, Dovecot reads and
// changes, roost reads again.
func TestMetadataDictInteropRoostToDovecot(t *testing.T) {
	t.Parallel()
	roostCase(t, func(t testing.TB) { metadataRoundTrip(t, "roost", "dovecot") })
}

// metadataEntries are the entries compared per mailbox ("" is the server).
var metadataEntries = map[string]string{
	"INBOX": "(/private/comment /shared/comment /private/vendor/x/y)",
	"Work":  "(/private/comment /shared/comment /private/vendor/x/y)",
	"Moved": "(/private/comment /shared/comment /private/vendor/x/y)",
	`""`:    "(/private/comment /private/vendor/x/server /shared/vendor/x/server)",
}

func metadataRoundTrip(t testing.TB, first, second string) {
	need(t, "dovecot")
	needRoost(t)
	env := newMailEnv(t)

	srv := startServer(t, env, first)
	c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
	c.must("CREATE Work")
	c.must("CREATE Work2")
	odd := "two lines\r\nwith\ta tab and \x01 (ctrl-A)"
	c.must("SETMETADATA INBOX (/private/comment \"inbox\" /shared/comment {%d+}\r\n%s)", len(odd), odd)
	c.must(`SETMETADATA Work (/private/vendor/x/y "work" /shared/comment "shared work")`)
	c.must(`SETMETADATA Work2 (/private/comment "renamed later")`)
	c.must(`SETMETADATA "" (/private/comment "server" /private/vendor/x/server "s" /shared/vendor/x/server "t")`)
	c.must("RENAME Work2 Moved")
	want := metadataSnapshot(t, c)
	for box, part := range map[string]string{"INBOX": "tab and \x01", "Moved": "renamed later", `""`: "server", "Work": "shared work"} {
		if !strings.Contains(want[box], part) {
			t.Fatalf("%s: GETMETADATA %s = %q, want %q in it", first, box, want[box], part)
		}
	}
	c.logout()
	srv.stop(t)
	if _, err := os.Stat(filepath.Join(env.Maildir("alice"), "dovecot-attributes")); err != nil {
		t.Fatalf("%s wrote no dovecot-attributes: %v", first, err)
	}

	srv = startServer(t, env, second)
	c = dialIMAP(t, srv.Addr(), "alice", "alicepw")
	compareMetadata(t, fmt.Sprintf("entries written by %s, read by %s", first, second), want, metadataSnapshot(t, c))
	c.must(`SETMETADATA INBOX (/private/comment NIL /private/vendor/x/y "by second")`)
	c.must(`SETMETADATA Moved (/shared/comment "moved")`)
	c.must(`SETMETADATA "" (/shared/vendor/x/server NIL)`)
	c.must("DELETE Work")
	c.must("CREATE Work")
	want = metadataSnapshot(t, c)
	if w := "* METADATA Work (/private/comment NIL /shared/comment NIL /private/vendor/x/y NIL)"; want["Work"] != w {
		t.Errorf("%s: entries of a deleted and recreated mailbox: %q, want %q", second, want["Work"], w)
	}
	c.logout()
	srv.stop(t)

	srv = startServer(t, env, first)
	c = dialIMAP(t, srv.Addr(), "alice", "alicepw")
	compareMetadata(t, fmt.Sprintf("entries changed by %s, read by %s", second, first), want, metadataSnapshot(t, c))
	c.logout()
}

// metadataSnapshot is each mailbox's GETMETADATA response for metadataEntries.
func metadataSnapshot(t testing.TB, c *imapClient) map[string]string {
	out := map[string]string{}
	for box, entries := range metadataEntries {
		r := c.must("GETMETADATA %s %s", box, entries)
		out[box] = strings.Join(r.untagged, "\n")
	}
	return out
}

func compareMetadata(t testing.TB, what string, want, got map[string]string) {
	t.Helper()
	for box, w := range want {
		if got[box] != w {
			t.Errorf("%s: mailbox %s:\n got %q\nwant %q", what, box, got[box], w)
		}
	}
}
