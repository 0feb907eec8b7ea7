package imapserver

import "testing"

// TestSearchRes: $ (RFC 5182 section 2.4) in FETCH, STORE, COPY, MOVE and
// UID EXPUNGE, answered as Dovecot 2.3.19 does (FETCH $ is a UID FETCH).
func TestSearchRes(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		for i := 0; i < 5; i++ {
			ts.appendMsg("alice", "INBOX", "Subject: m\r\n\r\nx\r\n")
		}
		c := ts.login()
		c.cmd("a0 CREATE Other").ok()
		c.cmd("a1 SELECT INBOX").ok()
		c.cmd("a2 FETCH $ (UID)").ok().equal()
		c.cmd("a3 SEARCH RETURN (SAVE) 2:4").ok().equal()
		c.cmd("a4 FETCH $ (FLAGS)").ok().equal("* 2 FETCH (UID 2 FLAGS (\\Recent))",
			"* 3 FETCH (UID 3 FLAGS (\\Recent))", "* 4 FETCH (UID 4 FLAGS (\\Recent))")
		c.cmd("a5 STORE $ +FLAGS (\\Flagged)").ok().equal("* 2 FETCH (FLAGS (\\Flagged \\Recent))",
			"* 3 FETCH (FLAGS (\\Flagged \\Recent))", "* 4 FETCH (FLAGS (\\Flagged \\Recent))")
		c.cmd("a6 COPY $ Other").status("OK [COPYUID ")
		c.cmd("a7 FETCH $,1 (UID)").status("BAD Error in IMAP command FETCH: Invalid messageset")
		c.cmd("a8 UID STORE $ +FLAGS.SILENT (\\Deleted)").ok()
		c.cmd("a9 STORE 1 +FLAGS.SILENT (\\Deleted)").ok()
		// Three EXPUNGEs, in either equivalent order (4 3 2 or 2 2 2).
		if r := c.cmd("b1 UID EXPUNGE $").ok().has("* 2 EXPUNGE").has("* 2 RECENT"); len(r.untagged) != 4 {
			t.Fatalf("UID EXPUNGE $: %q", r.untagged)
		}
		c.cmd("b2 FETCH $ (UID)").ok().equal()
		c.cmd("b3 SEARCH RETURN (SAVE) 2").ok()
		c.cmd("b4 MOVE $ Other").ok().has("* 2 EXPUNGE")
		c.cmd("b5 STATUS Other (MESSAGES)").ok().has("* STATUS Other (MESSAGES 4)")
	})
}
