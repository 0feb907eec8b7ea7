package imapserver

import (
	"strconv"
	"strings"
	"testing"
)

// RFC 9051 section 6.3.1: ENABLE IMAP4rev2 answers "* ENABLED IMAP4rev2".
func TestIMAP4rev2Enable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	pre, greeting := ts.dial()
	if !strings.HasPrefix(greeting, "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 ") {
		t.Errorf("greeting %q does not list IMAP4rev2 after IMAP4rev1", greeting)
	}
	pre.cmd("a LOGOUT").ok()
	c := ts.login()
	caps := c.cmd("a CAPABILITY").ok().untagged[0]
	if !strings.HasPrefix(caps, "* CAPABILITY IMAP4rev1 IMAP4rev2 ") || !strings.Contains(caps, " UTF8=ACCEPT ") {
		t.Errorf("capabilities %q lack IMAP4rev2 or UTF8=ACCEPT", caps)
	}
	c.cmd("b ENABLE IMAP4rev2").ok().equal("* ENABLED IMAP4rev2")
	c.cmd("c ENABLE imap4rev2 UTF8=ACCEPT").ok().equal("* ENABLED IMAP4rev2 UTF8=ACCEPT")
}

// RFC 9051 section 6.3.2 (SELECT example) and appendix E: no RECENT,
// no [UNSEEN n], a LIST response with the mailbox name; FETCH FLAGS and
// flag announcements carry no \Recent; new mail is EXISTS without RECENT.
func TestIMAP4rev2Select(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg, `\Seen`)
		r := ts.appendMsg("alice", "INBOX", testMsg)
		uidv := strconv.FormatUint(uint64(r.UIDValidity), 10)
		c := ts.login()
		c.cmd("a ENABLE IMAP4rev2").ok()
		c.cmd("b SELECT INBOX").status("OK [READ-WRITE]").equal(
			`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
			`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.`,
			`* 2 EXISTS`,
			`* OK [UIDVALIDITY `+uidv+`] UIDs valid`,
			`* OK [UIDNEXT 3] Predicted next UID`,
			`* LIST () "/" INBOX`,
		)
		c.cmd("c FETCH 1:2 FLAGS").ok().equal(`* 1 FETCH (FLAGS (\Seen))`, `* 2 FETCH (FLAGS ())`)
		c.cmd(`d STORE 2 +FLAGS (\Flagged)`).ok().equal(`* 2 FETCH (FLAGS (\Flagged))`)
		ts.appendMsg("alice", "INBOX", testMsg)
		c.cmd("e NOOP").ok().equal("* 3 EXISTS")
		c.cmd("f EXAMINE INBOX").status("OK [READ-ONLY]").lacks("* 3 RECENT")

		// An IMAP4rev1 session gets RECENT and UNSEEN; the IMAP4rev2
		// session's view has claimed \Recent, as any session's does.
		c2 := ts.login()
		c2.cmd("a SELECT INBOX").ok().has("* 0 RECENT").has("* OK [UNSEEN 2] First unseen.").lacks("* LIST")
	})
}

// RFC 9051 section 6.4.4: SEARCH answers with ESEARCH, ALL when no
// RETURN options were given; an empty result has no ALL.
func TestIMAP4rev2Search(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for range 3 {
		ts.appendMsg("alice", "INBOX", testMsg)
	}
	c := ts.login()
	c.cmd("a ENABLE IMAP4rev2").ok()
	c.cmd("b SELECT INBOX").ok()
	c.cmd("c SEARCH ALL").ok().equal(`* ESEARCH (TAG "c") ALL 1:3`)
	c.cmd("d UID SEARCH 2:3").ok().equal(`* ESEARCH (TAG "d") UID ALL 2:3`)
	c.cmd("e SEARCH DELETED").ok().equal(`* ESEARCH (TAG "e")`)
	c.cmd("f SEARCH RETURN (COUNT) ALL").ok().equal(`* ESEARCH (TAG "f") COUNT 3`)
	c.cmd("g SEARCH RETURN () 1").ok().equal(`* ESEARCH (TAG "g") ALL 1`)

	rev1 := ts.login()
	rev1.cmd("a SELECT INBOX").ok()
	rev1.cmd("b SEARCH ALL").ok().equal(`* SEARCH 1 2 3`)
}

// RFC 9051 section 6.3.11: STATUS DELETED (and SIZE); IMAP4rev1
// sessions still refuse DELETED as Dovecot does.
func TestIMAP4rev2StatusDeleted(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg, `\Deleted`)
		ts.appendMsg("alice", "INBOX", testMsg)
		c := ts.login()
		c.cmd("a STATUS INBOX (DELETED)").status("BAD Error in IMAP command STATUS: Invalid status item DELETED")
		c.cmd("b ENABLE IMAP4rev2").ok()
		c.cmd("c STATUS INBOX (MESSAGES DELETED SIZE)").ok().equal(
			"* STATUS INBOX (MESSAGES 2 SIZE " + strconv.Itoa(2*len(testMsg)) + " DELETED 1)")
		c.cmd("d SELECT INBOX").ok()
		c.cmd(`e STORE 2 +FLAGS.SILENT (\Deleted)`).ok()
		c.cmd("f STATUS INBOX (DELETED)").ok().equal("* STATUS INBOX (DELETED 2)")
		c.cmd("g STATUS nonexist (DELETED)").status("NO Mailbox doesn't exist: nonexist")
		c.cmd(`h LIST "" INBOX RETURN (STATUS (DELETED))`).ok().equal(
			`* LIST () "/" INBOX`, "* STATUS INBOX (DELETED 2)")
	})
}

// RFC 9051 section 7.3.1: a name that exists only as the parent of
// other mailboxes is \NonExistent (which implies \Noselect).
func TestIMAP4rev2ListNonExistent(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	c.cmd("a CREATE foo/bar").ok()
	c.cmd(`b LIST "" foo`).ok().equal(`* LIST (\Noselect \HasChildren) "/" foo`)
	c.cmd("c ENABLE IMAP4rev2").ok()
	c.cmd(`d LIST "" foo`).ok().equal(`* LIST (\NonExistent \HasChildren) "/" foo`)
	c.cmd(`e SELECT foo`).status("NO")
}

// RFC 9051 sections 5.1 and 6.3.2: a denormalised name selects the NFC
// mailbox, and the LIST response names both.
func TestIMAP4rev2SelectNormalised(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	c.cmd("a ENABLE IMAP4rev2").ok()
	c.cmd("b CREATE \"Caf\u00e9\"").ok().equal()
	c.cmd("c SELECT \"Cafe\u0301\"").ok().has("* LIST () \"/\" \"Caf\u00e9\" (\"OLDNAME\" (\"Cafe\u0301\"))")
	c.cmd("d EXAMINE \"Caf\u00e9\"").ok().has("* LIST () \"/\" \"Caf\u00e9\"")
	c.cmd("e SELECT inbox").ok().has(`* LIST () "/" INBOX`)
}

// IDLE under IMAP4rev2 announces new mail with EXISTS alone (RFC 9051
// section 6.3.13 example, no RECENT).
func TestIMAP4rev2Idle(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	c.cmd("a ENABLE IMAP4rev2").ok()
	c.cmd("b SELECT INBOX").ok()
	c.send("c IDLE")
	c.expect("+ idling")
	ts.appendMsg("alice", "INBOX", testMsg)
	c.expect("* 1 EXISTS")
	c.send("DONE")
	c.collect("c").status("OK Idle completed.").equal()
	c.cmd("d FETCH 1 FLAGS").ok().equal("* 1 FETCH (FLAGS ())")
}
