package imapserver

import "testing"

func TestStore(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	c.appendMsg("INBOX", "a\r\n")
	c.appendMsg("INBOX", "b\r\n", `\Seen`)
	c.do("s SELECT INBOX")
	c.expect(`t1 STORE 1:2 +FLAGS (\Seen)`, `
* 1 FETCH (FLAGS (\Seen \Recent))
t1 OK Store completed.
`)
	c.expect(`t2 UID STORE 2 FLAGS (\Answered Project)`, `
* FLAGS (\Answered \Flagged \Deleted \Seen \Draft Project)
* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft Project \*)] Flags permitted.
* 2 FETCH (UID 2 FLAGS (\Answered \Recent Project))
t2 OK Store completed.
`)
	c.expect(`t3 STORE 1 -FLAGS.SILENT \Seen`, "\nt3 OK Store completed.\n")
	c.expect(`t4 STORE 1 +FLAGS (\Recent)`, "\nt4 BAD Error in IMAP command STORE: Invalid system flag \\RECENT\n")
	c.expect(`t5 STORE 1 +FLAGS (\Bogus)`, "\nt5 BAD Error in IMAP command STORE: Invalid system flag \\BOGUS\n")
	c.expect(`t6 STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\Flagged)`, "\n* OK [HIGHESTMODSEQ 6] Highest\nt6 OK [MODIFIED 1] Conditional store failed.\n")
	c.expect(`t7 FETCH 1:2 FLAGS`, `
* 1 FETCH (FLAGS (\Recent))
* 2 FETCH (FLAGS (\Answered \Recent Project))
t7 OK Fetch completed.
`)
	c.do("e EXAMINE INBOX")
	c.expect(`t8 STORE 1 +FLAGS (\Deleted)`, "\nt8 OK Store ignored with read-only mailbox.\n")
}

func TestCopyMoveExpunge(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	for _, b := range []string{"1\r\n", "2\r\n", "3\r\n", "4\r\n"} {
		c.appendMsg("INBOX", b)
	}
	c.do("c CREATE Dst")
	c.do("s SELECT INBOX")
	c.expect("c1 COPY 2:3 Dst", "\nc1 OK [COPYUID 1385827069 2:3 1:2] Copy completed.\n")
	c.expect("c2 COPY 1 Nope", "\nc2 NO [TRYCREATE] Mailbox doesn't exist: Nope\n")
	c.expect("c3 UID COPY 99 Dst", "\nc3 OK No messages found.\n")
	c.expect("m1 UID MOVE 1,4 Dst", `
* OK [COPYUID 1385827069 1,4 3:4] Moved UIDs.
* 4 EXPUNGE
* 1 EXPUNGE
* 2 RECENT
m1 OK Move completed.
`)
	c.do(`d STORE 1:2 +FLAGS.SILENT (\Deleted)`)
	c.expect("x1 UID EXPUNGE 3", "* 2 EXPUNGE\n* 1 RECENT\nx1 OK Expunge completed.\n")
	c.expect("x2 EXPUNGE", "* 1 EXPUNGE\n* 0 RECENT\nx2 OK Expunge completed.\n")
	c.do("e EXAMINE Dst")
	c.expect("x3 EXPUNGE", "\nx3 OK Expunge ignored: Mailbox is read-only.\n")
}
