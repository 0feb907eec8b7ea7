package imapserver

import (
	"context"
	"strings"
	"testing"

	"roost/internal/storage"
)

const testMsg = "From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"

func TestSelectExamine(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg)
		res := ts.appendMsg("alice", "INBOX", testMsg, `\Seen`, "$Foo")
		c := ts.login()
		st, _ := ts.user("alice").Status(context.Background(), "INBOX")
		uv := itoa(st.UIDValidity)
		c.cmd("a SELECT inbox").status("OK [READ-WRITE] Select completed.").equal(
			`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Foo)`,
			`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Foo \*)] Flags permitted.`,
			`* 2 EXISTS`,
			`* 2 RECENT`,
			`* OK [UNSEEN 1] First unseen.`,
			`* OK [UIDVALIDITY `+uv+`] UIDs valid`,
			`* OK [UIDNEXT `+itoa(res.UID+1)+`] Predicted next UID`,
		)
		c.cmd("b EXAMINE INBOX").status("OK [READ-ONLY] Examine completed.").equal(
			`* OK [CLOSED] Previous mailbox closed.`,
			`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Foo)`,
			`* OK [PERMANENTFLAGS ()] Read-only mailbox.`,
			`* 2 EXISTS`,
			`* 0 RECENT`,
			`* OK [UNSEEN 1] First unseen.`,
			`* OK [UIDVALIDITY `+uv+`] UIDs valid`,
			`* OK [UIDNEXT `+itoa(res.UID+1)+`] Predicted next UID`,
		)
		c.cmd("c SELECT nonexist").status("NO Mailbox doesn't exist: nonexist")
		// A failed SELECT leaves no mailbox selected.
		c.cmd("d CHECK").status("BAD No mailbox selected.")
		c.cmd("e SELECT &AOk").status("NO Mailbox name is not valid mUTF-7")
		c.cmd("f SELECT").status("BAD Error in IMAP command SELECT: ")
		// Dovecot ignores arguments a command does not read.
		c.cmd("g SELECT INBOX extra").ok()
	})
}

func TestCloseUnselect(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg, `\Deleted`)
		ts.appendMsg("alice", "INBOX", testMsg)
		c := ts.login()
		c.cmd("a CLOSE").status("BAD No mailbox selected.")
		c.cmd("b UNSELECT").status("BAD No mailbox selected.")

		c.cmd("c EXAMINE INBOX").ok()
		c.cmd("d CLOSE").ok().equal() // read-only: nothing expunged
		c.cmd("e SELECT INBOX").ok().has("* 2 EXISTS")
		c.cmd("f UNSELECT").ok().equal()
		c.cmd("g SELECT INBOX").ok().has("* 2 EXISTS")
		c.cmd("h CHECK").ok()
		c.cmd("i CLOSE").ok().equal() // silent expunge
		c.cmd("j STATUS INBOX (MESSAGES)").ok().equal("* STATUS INBOX (MESSAGES 1)")
		c.cmd("k NOOP").ok().equal()
	})
}

func TestSyncAnnouncements(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg)
		ts.appendMsg("alice", "INBOX", testMsg)
		ts.appendMsg("alice", "INBOX", testMsg)
		c := ts.login()
		c.cmd("a SELECT INBOX").ok()

		other, err := ts.user("alice").Open(context.Background(), "INBOX", storage.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		uids := []uint32{other.Messages()[0].UID, other.Messages()[2].UID}
		if _, err := other.Store(context.Background(), uids[1:], storage.FlagsAdd, []string{`\Flagged`}, storage.StoreOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := other.Expunge(context.Background(), uids[:1]); err != nil {
			t.Fatal(err)
		}
		ts.appendMsg("alice", "INBOX", testMsg)

		// FETCH, STORE, SEARCH and COPY by sequence number must not see an
		// EXPUNGE (RFC 3501 section 7.4.1), but announce the rest, as
		// Dovecot does: the flag change (seen by FETCH itself) and the new
		// message, with the expunged one still counted.
		r := c.cmd("b FETCH 1:* FLAGS").ok().lacks("* 1 EXPUNGE")
		r.has(`* 3 FETCH (FLAGS (\Flagged \Recent))`).has("* 4 EXISTS")
		if n := strings.Count(strings.Join(r.untagged, "\n"), `* 3 FETCH (FLAGS (\Flagged \Recent))`); n != 2 {
			t.Fatalf("want the FETCH response and the announcement of the change: %q", r.untagged)
		}
		for _, cmd := range []string{"b SEARCH ALL", "b STORE 1 +FLAGS.SILENT (x)", "b COPY 1 INBOX"} {
			c.cmd(cmd).lacks("* 1 EXPUNGE")
		}
		c.cmd("c NOOP").ok().has("* 1 EXPUNGE").lacks("* 2 FETCH").lacks("* 3 EXISTS")
		c.cmd("d NOOP").ok().equal()
	})
}

func TestDeleteSelected(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a CREATE x").ok()
		c.cmd("b SELECT x").ok()
		c.cmd("c DELETE x").ok()
		c.expect("* BYE Selected mailbox was deleted, have to disconnect.")
		c.expectClosed()
	})
}

func itoa(n uint32) string {
	var b [10]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestSelectedDeletedElsewhere(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a CREATE x").ok()
		c.cmd("b SELECT x").ok()
		other := ts.login()
		other.cmd("c DELETE x").ok()
		c.cmd("d NOOP").ok()
		c.expect("* BYE Selected mailbox was deleted, have to disconnect.")
		c.expectClosed()
	})
}

// TestTwoSessionsFlags is e2e 10-sessions: FETCH sees another session's
// flag change and the change is announced after it; a message the other
// session expunged keeps its last flags until an EXPUNGE may be sent.
func TestTwoSessionsFlags(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg)
		ts.appendMsg("alice", "INBOX", testMsg, `\Seen`)
		a, b := ts.login(), ts.login()
		a.cmd("a1 SELECT INBOX").ok().has("* 2 RECENT")
		b.cmd("b1 SELECT INBOX").ok().has("* 0 RECENT")
		b.cmd("b2 STORE 1 +FLAGS (\\Answered)").ok()
		a.cmd("a2 FETCH 1 FLAGS").ok().equal(`* 1 FETCH (FLAGS (\Answered \Recent))`, `* 1 FETCH (FLAGS (\Answered \Recent))`)
		a.cmd("a3 NOOP").ok().equal()
		b.cmd("b3 STORE 2 +FLAGS.SILENT (\\Deleted)").ok()
		b.cmd("b4 EXPUNGE").ok().equal("* 2 EXPUNGE")
		a.cmd("a4 FETCH 1:* UID").ok().equal("* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", `* 2 FETCH (FLAGS (\Deleted \Seen \Recent))`)
		a.cmd("a5 NOOP").ok().equal("* 2 EXPUNGE", "* 1 RECENT")
	})
}

// TestMoveFromExamined: EXAMINE is read-only (RFC 3501 section 6.3.2), so
// MOVE out of it is refused and the message stays (Dovecot 2.3 moves it:
// docs/compat.md, Known differences).
func TestMoveFromExamined(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg)
		c := ts.login()
		c.cmd("a CREATE Other").ok()
		c.cmd("b EXAMINE INBOX").ok()
		c.cmd("c MOVE 1 Other").status("NO").lacks("* 1 EXPUNGE")
		c.cmd("d STATUS INBOX (MESSAGES)").ok().has("* STATUS INBOX (MESSAGES 1)")
		c.cmd("e STATUS Other (MESSAGES)").ok().has("* STATUS Other (MESSAGES 0)")
	})
}

// TestUIDExpungeSeesOthersDeleted: UID EXPUNGE expunges a message another
// session marked \Deleted, as Dovecot's does (latest flags).
func TestUIDExpungeSeesOthersDeleted(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg)
		a, b := ts.login(), ts.login()
		a.cmd("a1 SELECT INBOX").ok()
		b.cmd("b1 SELECT INBOX").ok()
		b.cmd(`b2 STORE 1 +FLAGS.SILENT (\Deleted)`).ok()
		a.cmd("a2 UID EXPUNGE 1:*").ok().has("* 1 EXPUNGE")
	})
}
