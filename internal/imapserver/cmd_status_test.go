package imapserver

import (
	"context"
	"testing"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", testMsg)
		ts.appendMsg("alice", "INBOX", testMsg, `\Seen`)
		st, _ := ts.user("alice").Status(context.Background(), "INBOX")
		c := ts.login()
		c.cmd("a STATUS INBOX (UIDNEXT MESSAGES)").ok().equal("* STATUS INBOX (MESSAGES 2 UIDNEXT 3)")
		c.cmd("b STATUS inbox (SIZE UNSEEN RECENT UIDVALIDITY MESSAGES UIDNEXT)").ok().equal(
			"* STATUS INBOX (MESSAGES 2 RECENT 2 UIDNEXT 3 UIDVALIDITY " + itoa(st.UIDValidity) + " UNSEEN 1 SIZE " +
				itoa(uint32(2*len(testMsg))) + ")")
		c.cmd("c STATUS nonexist (MESSAGES)").status("NO Mailbox doesn't exist: nonexist")
		c.cmd("d STATUS INBOX (BOGUS)").status("BAD Error in IMAP command STATUS: Invalid status item BOGUS")
		c.cmd("e STATUS INBOX ()").status("BAD Error in IMAP command STATUS: Empty status list")
		c.cmd("f STATUS INBOX (MESSAGES").status("BAD Error in IMAP command STATUS: ")
		c.cmd("g CREATE Entw&APw-rfe").ok()
		c.cmd("h STATUS Entw&APw-rfe (MESSAGES)").ok().equal("* STATUS Entw&APw-rfe (MESSAGES 0)")
		// STATUS of the selected mailbox is answered (RFC 3501 advises
		// against it; Dovecot allows it).
		c.cmd("i SELECT INBOX").ok()
		c.cmd("j STATUS INBOX (MESSAGES)").status("OK [CLIENTBUG] ").equal("* STATUS INBOX (MESSAGES 2)")
	})
}

func TestNamespaceEnableID(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c, _ := ts.dial()
		c.cmd(`a ID ("name" "test" "version" NIL)`).ok().equal(`* ID ("name" "Dovecot")`)
		c.cmd(`b ID NIL`).ok().equal(`* ID ("name" "Dovecot")`)
		c.cmd(`c LOGIN alice secret`).ok()
		c.cmd(`d ID (`).status("BAD Error in IMAP command ID: ")
		c.cmd("e NAMESPACE").ok().equal(`* NAMESPACE (("" "/")) NIL NIL`)
		c.cmd("f ENABLE FOO BAR").ok().equal()
		c.cmd("g ENABLE").ok().equal()
		c.cmd("h ID").ok().equal(`* ID ("name" "Dovecot")`)
		c.cmd(`i ID ("name")`).ok().equal(`* ID ("name" "Dovecot")`)
		c.cmd("j NAMESPACE extra").ok()
	})
}

func TestServerID(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.ServerID = map[string]string{"name": "roost", "version": "1"} })
	c, _ := ts.dial()
	c.cmd(`a ID NIL`).ok().equal(`* ID ("name" "roost" "version" "1")`)
}
