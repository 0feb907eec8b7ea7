package imapserver

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestQresync: RFC 7162 section 3.2 against memstore (which keeps its
// whole expunge history): expunges as VANISHED, HIGHESTMODSEQ in the
// tagged OK after a sync, UID FETCH (CHANGEDSINCE n VANISHED), SELECT
// (QRESYNC (...)) with and without known UIDs and seq-match-data. The
// shapes are Dovecot 2.3's (e2e/testdata/imap/13-qresync.dovecot).
func TestQresync(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	for i := 0; i < 5; i++ {
		c.appendMsg("INBOX", "m\r\n")
	}
	var got strings.Builder
	for _, l := range []string{
		"a ENABLE QRESYNC", "b SELECT INBOX", `c STORE 2,4 +FLAGS.SILENT (\Deleted)`, "d EXPUNGE",
		`e STORE 1 +FLAGS (\Seen)`, "f UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)",
		"f2 FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)", "g UNSELECT",
		"h STATUS INBOX (UIDVALIDITY HIGHESTMODSEQ)",
	} {
		got.WriteString(c.do(l))
	}
	uv := regexp.MustCompile(`UIDVALIDITY (\d+)`).FindStringSubmatch(got.String())[1]
	for _, l := range []string{
		"j SELECT INBOX (QRESYNC (<UV> 6 1:5))", "k EXAMINE INBOX (QRESYNC (<UV> 2))",
		"l SELECT INBOX (QRESYNC (<UV> 6 1:5 (1:3 1,3,5)))", "m SELECT INBOX (QRESYNC (<UV> 9 1:5 (1:2 1,2)))",
		"n SELECT INBOX (QRESYNC (1 2))",
	} {
		got.WriteString(c.do(strings.ReplaceAll(l, "<UV>", uv)))
	}
	out := strings.ReplaceAll(strings.ReplaceAll(got.String(), uv, "<UV>"), "\r\n", "\n")
	if out != qresyncGolden {
		t.Errorf("got:\n%s\nwant:\n%s", out, qresyncGolden)
	}
}

const selectHead = `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
* 3 EXISTS
* 0 RECENT
* OK [UNSEEN 2] First unseen.
* OK [UIDVALIDITY <UV>] UIDs valid
* OK [UIDNEXT 6] Predicted next UID
* OK [HIGHESTMODSEQ 10] Highest
`

var qresyncGolden = `* ENABLED QRESYNC
a OK Enabled.
* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
* 5 EXISTS
* 5 RECENT
* OK [UNSEEN 1] First unseen.
* OK [UIDVALIDITY <UV>] UIDs valid
* OK [UIDNEXT 6] Predicted next UID
* OK [HIGHESTMODSEQ 6] Highest
b OK [READ-WRITE] Select completed.
* 2 FETCH (UID 2 MODSEQ (7))
* 4 FETCH (UID 4 MODSEQ (8))
c OK Store completed.
* VANISHED 2,4
* 3 RECENT
d OK [HIGHESTMODSEQ 9] Expunge completed.
* 1 FETCH (UID 1 MODSEQ (10) FLAGS (\Seen \Recent))
e OK Store completed.
* VANISHED (EARLIER) 2,4
* 1 FETCH (UID 1 FLAGS (\Seen \Recent) MODSEQ (10))
* 2 FETCH (UID 3 FLAGS (\Recent) MODSEQ (4))
* 3 FETCH (UID 5 FLAGS (\Recent) MODSEQ (6))
f OK Fetch completed.
f2 BAD Error in IMAP command FETCH: VANISHED not allowed here
g OK Unselect completed.
* STATUS INBOX (UIDVALIDITY <UV> HIGHESTMODSEQ 10)
h OK Status completed.
` + selectHead + `* VANISHED (EARLIER) 2,4
* 1 FETCH (UID 1 FLAGS (\Seen) MODSEQ (10))
j OK [READ-WRITE] Select completed.
* OK [CLOSED] Previous mailbox closed.
` + strings.Replace(selectHead, "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted.", "()] Read-only mailbox.", 1) + `* VANISHED (EARLIER) 2,4
* 1 FETCH (UID 1 FLAGS (\Seen) MODSEQ (10))
* 2 FETCH (UID 3 FLAGS () MODSEQ (4))
* 3 FETCH (UID 5 FLAGS () MODSEQ (6))
k OK [READ-ONLY] Examine completed.
* OK [CLOSED] Previous mailbox closed.
` + selectHead + `* VANISHED (EARLIER) 2,4
* 1 FETCH (UID 1 FLAGS (\Seen) MODSEQ (10))
l OK [READ-WRITE] Select completed.
* OK [CLOSED] Previous mailbox closed.
` + selectHead + `* VANISHED (EARLIER) 2,4
* 1 FETCH (UID 1 FLAGS (\Seen) MODSEQ (10))
m OK [READ-WRITE] Select completed.
* OK [CLOSED] Previous mailbox closed.
` + selectHead + `n OK [READ-WRITE] Select completed.
`

// TestCondstore: implicit enabling (FETCH MODSEQ sends HIGHESTMODSEQ
// first), .SILENT still reporting MODSEQ, UNCHANGEDSINCE with
// [MODIFIED], SEARCH MODSEQ with an entry name, STATUS HIGHESTMODSEQ.
func TestCondstore(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	for i := 0; i < 3; i++ {
		c.appendMsg("INBOX", "m\r\n")
	}
	c.do("a SELECT INBOX")
	c.expect("b FETCH 1 (MODSEQ)", `
* OK [HIGHESTMODSEQ 4] Highest
* 1 FETCH (MODSEQ (2))
b OK Fetch completed.
`)
	c.expect(`c UID STORE 2 +FLAGS.SILENT (\Answered)`, `
* 2 FETCH (UID 2 MODSEQ (5))
c OK Store completed.
`)
	c.expect(`d STORE 1:3 (UNCHANGEDSINCE 4) +FLAGS (\Draft)`, `
* 1 FETCH (MODSEQ (6) FLAGS (\Draft \Recent))
* 3 FETCH (MODSEQ (7) FLAGS (\Draft \Recent))
d OK [MODIFIED 2] Conditional store failed.
`)
	c.expect(`e SEARCH MODSEQ "/flags/\\draft" all 6`, `
* SEARCH 1 3 (MODSEQ 7)
e OK Search completed.
`)
	c.expect(`f SEARCH MODSEQ 100`, `
* SEARCH
f OK Search completed.
`)
	c.expect(`g SEARCH MODSEQ "/flags/\\draft" bogus 6`, `
g BAD Error in IMAP command SEARCH: Invalid search MODSEQ parameter
`)
	c.expect(`h FETCH 1:* (FLAGS) (CHANGEDSINCE 5)`, `
* 1 FETCH (FLAGS (\Draft \Recent) MODSEQ (6))
* 3 FETCH (FLAGS (\Draft \Recent) MODSEQ (7))
h OK Fetch completed.
`)
	c.expect(`i SELECT INBOX (FOO)`, `
* OK [CLOSED] Previous mailbox closed.
i BAD Error in IMAP command SELECT: Unknown select parameter FOO
`)
	c.expect(`j SELECT INBOX (QRESYNC (1 1))`, `
j BAD Error in IMAP command SELECT: Unknown select parameter QRESYNC
`)
}

// TestQresyncOffline: a QRESYNC client away across a server restart
// learns what was expunged meanwhile from the index's expunge history
// (VANISHED (EARLIER)); with the index deleted, from the UIDs of its
// known set that no longer exist (RFC 7162 section 3.2.5.2).
func TestQresyncOffline(t *testing.T) {
	t.Parallel()
	ts := newDriverServer(t, "maildir")
	for i := 0; i < 5; i++ {
		ts.appendMsg("alice", "INBOX", testMsg)
	}
	a := ts.login()
	a.cmd("a ENABLE QRESYNC").ok()
	a.cmd("b SELECT INBOX").ok()
	a.cmd(`c STORE 5 +FLAGS.SILENT (\Deleted)`).ok()
	a.cmd("d EXPUNGE").ok() // before the client's HIGHESTMODSEQ
	sel := a.cmd("e SELECT INBOX").ok()
	uv, hm := selectCode(t, sel, "UIDVALIDITY"), selectCode(t, sel, "HIGHESTMODSEQ")
	a.cmd(`f STORE 2,4 +FLAGS.SILENT (\Deleted)`).ok()
	a.cmd("g EXPUNGE").ok()
	a.cmd("h LOGOUT")
	resync := "b SELECT INBOX (QRESYNC (" + uv + " " + hm + " 1:5))"
	for _, dropIndex := range []bool{false, true} {
		want := "* VANISHED (EARLIER) 2,4" // from the history: 5 went before hm
		if dropIndex {
			removeRoostIndex(t, ts.dir)
			want = "* VANISHED (EARLIER) 2,4:5" // every missing UID of 1:5
		}
		ts2 := newDriverServer(t, "maildir") // a restarted server on the same store
		ts2.dir = ts.dir
		b := ts2.login()
		b.cmd("a ENABLE QRESYNC").ok()
		b.cmd(resync).ok().has(want)
	}
}

// selectCode returns the value of "* OK [CODE value]" in r.
func selectCode(t *testing.T, r *result, code string) string {
	t.Helper()
	for _, l := range r.untagged {
		if v, ok := strings.CutPrefix(l, "* OK ["+code+" "); ok {
			v, _, _ = strings.Cut(v, "]")
			return v
		}
	}
	t.Fatalf("no %s in %q", code, r.untagged)
	return ""
}

// removeRoostIndex deletes roost's index files (roost.index*) under dir.
func removeRoostIndex(t *testing.T, dir string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "roost.index") {
			n++
			return os.Remove(p)
		}
		return err
	})
	if err != nil || n == 0 {
		t.Fatalf("remove roost.index under %s: %v (%d files)", dir, err, n)
	}
}
