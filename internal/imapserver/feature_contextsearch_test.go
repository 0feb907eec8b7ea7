package imapserver

import (
	"strconv"
	"testing"
)

func ctxMsg(subject string) string {
	return "From: a@example.com\r\nSubject: " + subject + "\r\n\r\nbody\r\n"
}

// RFC 5267 section 4.4: PARTIAL returns one page of the result, for
// SEARCH and SORT; ALL and PARTIAL exclude each other.
func TestContextSearchPartial(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for i := 1; i <= 7; i++ {
		var flags []string
		if i == 3 || i == 4 {
			flags = []string{`\Deleted`}
		}
		ts.appendMsg("alice", "INBOX", ctxMsg("s"+strconv.Itoa(8-i)), flags...)
	}
	c := ts.login()
	c.cmd("a SELECT INBOX").ok()
	c.cmd("b UID SEARCH RETURN (PARTIAL 1:3) UNDELETED").ok().equal(`* ESEARCH (TAG "b") UID PARTIAL (1:3 1:2,5)`)
	c.cmd("c SEARCH RETURN (PARTIAL 5:4 COUNT MIN) UNDELETED").ok().equal(`* ESEARCH (TAG "c") MIN 1 PARTIAL (4:5 6:7) COUNT 5`)
	c.cmd("d SEARCH RETURN (PARTIAL 6:9) UNDELETED").ok().equal(`* ESEARCH (TAG "d") PARTIAL (6:9 NIL)`)
	c.cmd("e SORT RETURN (PARTIAL 1:2) (SUBJECT) UTF-8 UNDELETED").ok().equal(`* ESEARCH (TAG "e") PARTIAL (1:2 7,6)`)
	c.cmd("f SEARCH RETURN (PARTIAL 1:2 ALL) ALL").status("BAD Error in IMAP command SEARCH: ALL and PARTIAL are mutually exclusive")
	c.cmd("g SEARCH RETURN (PARTIAL 0:2) ALL").status("BAD Error in IMAP command SEARCH: Invalid PARTIAL range")
	c.cmd("h SEARCH RETURN (PARTIAL 1:*) ALL").status("BAD")
	c.cmd("i SEARCH RETURN (PARTIAL) ALL").status("BAD")
	// CONTEXT is a hint: alone it is RETURN (ALL).
	c.cmd("j SEARCH RETURN (CONTEXT) UNDELETED").ok().equal(`* ESEARCH (TAG "j") ALL 1:2,5:7`)
	// SEARCHRES: SAVE with PARTIAL keeps the page, as Dovecot.
	c.cmd("k SEARCH RETURN (PARTIAL 2:3 SAVE) UNDELETED").ok().equal(`* ESEARCH (TAG "k") PARTIAL (2:3 2,5)`)
	c.cmd("l UID SEARCH $").ok().equal("* SEARCH 2 5")
}

// RFC 5267 section 4.3's example: UPDATE reports messages joining and
// leaving the result as ADDTO/REMOVEFROM after the command that saw the
// change, until CANCELUPDATE.
func TestContextSearchUpdate(t *testing.T) {
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		for i := 1; i <= 5; i++ {
			var flags []string
			if i == 3 || i == 5 {
				flags = []string{`\Flagged`}
			}
			ts.appendMsg("alice", "INBOX", ctxMsg("m"+strconv.Itoa(i)), flags...)
		}
		a, b := ts.login(), ts.login()
		b.cmd("b1 SELECT INBOX").ok() // b takes \Recent
		a.cmd("a1 SELECT INBOX").ok()
		a.cmd("B01 UID SEARCH RETURN (ALL UPDATE) FLAGGED").ok().equal(`* ESEARCH (TAG "B01") UID ALL 3,5`)
		a.cmd("B02 SEARCH RETURN (UPDATE) UNFLAGGED").ok().equal(`* ESEARCH (TAG "B02")`)
		a.cmd("B02 SEARCH RETURN (UPDATE) SEEN").status("BAD Error in IMAP command SEARCH: Duplicate search update tag")

		b.cmd("b2 STORE 1:2 +FLAGS (\\Flagged)").ok()
		b.cmd("b3 STORE 3 -FLAGS (\\Flagged)").ok()
		a.cmd("a2 NOOP").ok().equal(
			`* 1 FETCH (FLAGS (\Flagged))`,
			`* 2 FETCH (FLAGS (\Flagged))`,
			`* 3 FETCH (FLAGS ())`,
			`* ESEARCH (TAG "B01") UID REMOVEFROM (0 3) ADDTO (0 1:2)`,
			`* ESEARCH (TAG "B02") REMOVEFROM (0 1:2) ADDTO (0 3)`)

		// New messages: after EXISTS. The session's own STORE counts too.
		ts.appendMsg("alice", "INBOX", ctxMsg("m6"), `\Flagged`)
		ts.appendMsg("alice", "INBOX", ctxMsg("m7"))
		a.cmd("a3 NOOP").ok().equal(
			`* 7 EXISTS`,
			`* 2 RECENT`,
			`* ESEARCH (TAG "B01") UID ADDTO (0 6)`,
			`* ESEARCH (TAG "B02") ADDTO (0 7)`)
		a.cmd("a4 STORE 7 +FLAGS.SILENT (\\Flagged)").ok().equal(
			`* ESEARCH (TAG "B01") UID ADDTO (0 7)`,
			`* ESEARCH (TAG "B02") REMOVEFROM (0 7)`)

		// Expunges: REMOVEFROM first, with the numbers the client knows.
		b.cmd("b4 NOOP").ok()
		b.cmd("b4 STORE 2,4 +FLAGS (\\Deleted)").ok()
		b.cmd("b5 EXPUNGE").ok()
		r := a.cmd("a5 NOOP").ok()
		if len(r.untagged) < 4 || r.untagged[0] != `* ESEARCH (TAG "B01") UID REMOVEFROM (0 2)` ||
			r.untagged[1] != `* ESEARCH (TAG "B02") REMOVEFROM (0 4)` {
			t.Fatalf("a5 NOOP: %q", r.untagged)
		}
		r.has("* 2 EXPUNGE")

		a.cmd(`a6 CANCELUPDATE "B01"`).ok()
		a.cmd(`a7 CANCELUPDATE "B01"`).status("NO")
		a.cmd(`a8 CANCELUPDATE B02`).status("BAD")
		b.cmd("b6 STORE 1 -FLAGS (\\Flagged)").ok()
		a.cmd("a9 NOOP").ok().equal(
			`* 1 FETCH (FLAGS ())`,
			`* ESEARCH (TAG "B02") ADDTO (0 1)`)
		a.cmd(`a10 CANCELUPDATE "B02"`).ok()
		b.cmd("b7 STORE 1 +FLAGS (\\Flagged)").ok()
		a.cmd("a11 NOOP").ok().equal(`* 1 FETCH (FLAGS (\Flagged))`)

		// Updates arrive in IDLE, and end with the selection.
		a.cmd("a12 SEARCH RETURN (UPDATE) ALL").ok()
		a.send("a13 IDLE")
		a.expect("+ idling")
		ts.appendMsg("alice", "INBOX", ctxMsg("m8"))
		a.expect("* 6 EXISTS")
		a.expect("* 3 RECENT")
		a.expect(`* ESEARCH (TAG "a12") ADDTO (0 6)`)
		a.send("DONE")
		a.collect("a13").ok()
		a.cmd("a14 SELECT INBOX").ok()
		a.cmd(`a15 CANCELUPDATE "a12"`).status("NO")
	})
}

// RFC 5267 section 4.3: past maxSearchUpdates contexts the search is
// answered once and NOUPDATE says no updates will follow.
func TestContextSearchNoUpdate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.appendMsg("alice", "INBOX", ctxMsg("x"))
	c := ts.login()
	c.cmd("a SELECT INBOX").ok()
	for i := 0; i < maxSearchUpdates; i++ {
		tag := "u" + strconv.Itoa(i)
		c.cmd(tag + " SEARCH RETURN (UPDATE COUNT) ALL").ok().equal(`* ESEARCH (TAG "` + tag + `") COUNT 1`)
	}
	c.cmd("z SEARCH RETURN (UPDATE COUNT) ALL").ok().equal(
		`* ESEARCH (TAG "z") COUNT 1`,
		`* NO [NOUPDATE "z"] Too many search update contexts.`)
}

// A change the next SEARCH sees first is still reported for the older
// contexts once that SEARCH makes a new one.
func TestContextSearchUpdateDuringSearch(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.appendMsg("alice", "INBOX", ctxMsg("one"))
	ts.appendMsg("alice", "INBOX", ctxMsg("two"))
	a, b := ts.login(), ts.login()
	b.cmd("b1 SELECT INBOX").ok()
	a.cmd("a1 SELECT INBOX").ok()
	a.cmd("a2 UID SEARCH RETURN (UPDATE) FLAGGED").ok().equal(`* ESEARCH (TAG "a2") UID`)
	b.cmd("b2 STORE 2 +FLAGS (\\Flagged)").ok()
	a.cmd("a3 UID SEARCH RETURN (UPDATE COUNT) FLAGGED").ok().equal(
		`* ESEARCH (TAG "a3") UID COUNT 1`,
		`* 2 FETCH (FLAGS (\Flagged))`,
		`* ESEARCH (TAG "a2") UID ADDTO (0 2)`)
}
