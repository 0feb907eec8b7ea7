package imapserver

import (
	"strconv"
	"testing"

	"roost/internal/storage"
)

// RFC 6855 section 3 (and RFC 9051 section 5.1): after ENABLE
// UTF8=ACCEPT mailbox names are UTF-8 both ways; IMAP4rev1 sessions keep
// seeing modified UTF-7.
func TestUTF8AcceptMailboxNames(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a ENABLE UTF8=ACCEPT").ok().equal("* ENABLED UTF8=ACCEPT")
		c.cmd(`b CREATE "Entwürfe"`).ok()
		c.cmd(`c CREATE "a&b"`).ok()
		c.cmd(`d LIST "" "Entw*"`).ok().equal(`* LIST (\HasNoChildren) "/" "Entwürfe"`)
		c.cmd(`e STATUS "Entwürfe" (MESSAGES)`).ok().equal(`* STATUS "Entwürfe" (MESSAGES 0)`)
		c.cmd(`f LIST "" a*`).ok().equal(`* LIST (\HasNoChildren) "/" a&b`)
		// RFC 9051 section 6.3.4: a denormalised name is created in NFC
		// and announced with OLDNAME; the other spelling finds it too.
		c.cmd("f2 CREATE \"Cafe\u0301/\"").ok().equal("* LIST () \"/\" \"Caf\u00e9\" (\"OLDNAME\" (\"Cafe\u0301/\"))")
		c.cmd("f3 STATUS \"Cafe\u0301\" (MESSAGES)").ok().equal("* STATUS \"Caf\u00e9\" (MESSAGES 0)")
		c.cmd("f4 CREATE \"a\u2028b\"").status("NO Mailbox name is not valid UTF-8")
		c.cmd("f5 RENAME \"Caf\u00e9\" \"Cre\u0300me\"").ok().equal("* LIST () \"/\" \"Cr\u00e8me\" (\"OLDNAME\" (\"Cre\u0300me\"))")
		c.cmd("f6 RENAME \"Cr\u00e8me\" \"Caf\u00e9\"").ok().equal()
		c.cmd("f7 DELETE \"Caf\u00e9\"").ok()
		c.cmd("g SELECT \"Entw\xfcrfe\"").status("NO Mailbox name is not valid UTF-8")
		c.cmd(`h SELECT "Entwürfe"`).ok()
		c.cmd(`i CLOSE`).ok()
		c.cmd(`j RENAME "Entwürfe" "Brouillons-é"`).ok()
		c.cmd(`k SUBSCRIBE "Brouillons-é"`).ok()
		c.cmd(`l LSUB "" *`).ok().equal(`* LSUB () "/" "Brouillons-é"`)

		rev1 := ts.login()
		rev1.cmd(`a LIST "" *`).ok().has(`* LIST (\HasNoChildren) "/" Brouillons-&AOk-`).has(`* LIST (\HasNoChildren) "/" a&-b`)
		// A UTF-8 name without ENABLE (go-imap v2 sends them once it sees
		// IMAP4rev2) is accepted; the answers stay modified UTF-7.
		rev1.cmd(`b CREATE "Grüße"`).ok()
		rev1.cmd(`c LIST "" Gr*`).ok().equal(`* LIST (\HasNoChildren) "/" Gr&APwA3w-e`)
		rev1.cmd("d SELECT \"M\xff\"").status("NO Mailbox name is not valid mUTF-7")
	})
}

// RFC 6855 section 4: APPEND's UTF8 (literal8) form, only after ENABLE
// UTF8=ACCEPT; Python's imaplib sends a plain literal inside it.
func TestUTF8AcceptAppend(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	msg := "From: jörg@example.com\r\nSubject: Grüße\r\n\r\nHallo\r\n"
	n := strconv.Itoa(len(msg))
	c := ts.login()
	c.send("a APPEND INBOX UTF8 (~{" + n + "+}\r\n" + msg + ")")
	c.collect("a").status("BAD")
	c.cmd("b ENABLE UTF8=ACCEPT").ok()
	c.send("c APPEND INBOX (\\Seen) UTF8 (~{" + n + "+}\r\n" + msg + ")")
	c.collect("c").status("OK [APPENDUID")
	c.send("d APPEND INBOX UTF8 ({" + n + "}")
	c.expect("+ OK")
	c.sendRaw(msg + ")\r\n")
	c.collect("d").status("OK [APPENDUID")
	c.send("e APPEND INBOX UTF8 (~{" + n + "+}\r\n" + msg)
	c.collect("e").status("BAD")
	// Python's imaplib puts the wrapper inside a plain literal.
	wrapped := "UTF8 (" + msg + ")"
	c.send("e2 APPEND INBOX {" + strconv.Itoa(len(wrapped)) + "+}\r\n" + wrapped)
	c.collect("e2").status("OK [APPENDUID")
	c.cmd("f SELECT INBOX").ok().has("* 3 EXISTS")
	c.cmd("g FETCH 1:3 (FLAGS RFC822.SIZE)").ok().equal(
		`* 1 FETCH (FLAGS (\Seen \Recent) RFC822.SIZE `+n+`)`,
		`* 2 FETCH (FLAGS (\Recent) RFC822.SIZE `+n+`)`,
		`* 3 FETCH (FLAGS (\Recent) RFC822.SIZE `+n+`)`)
	c.cmd("h FETCH 2 BODY.PEEK[HEADER.FIELDS (SUBJECT)]").ok().has(
		"* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {20}\r\nSubject: Grüße\r\n\r\n)")
}

// RFC 6855 section 3 and erratum 4029: SEARCH, SORT and THREAD with a
// charset other than UTF-8 are BAD once UTF8=ACCEPT is on; IMAP4rev1
// sessions may use any.
func TestUTF8AcceptSearchCharset(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.appendMsg("alice", "INBOX", "Subject: Grüße\r\n\r\nx\r\n")
	c := ts.login()
	c.cmd("a SELECT INBOX").ok()
	c.cmd("b SEARCH CHARSET ISO-8859-1 ALL").ok().equal("* SEARCH 1")
	c.cmd("c ENABLE UTF8=ACCEPT").ok()
	c.cmd("d SEARCH CHARSET ISO-8859-1 ALL").status("BAD Error in IMAP command SEARCH: CHARSET must be UTF-8")
	c.cmd("e SEARCH CHARSET UTF-8 SUBJECT \"grüße\"").ok().equal("* SEARCH 1")
	c.cmd("f SEARCH SUBJECT \"Grüße\"").ok().equal("* SEARCH 1")
	// SORT and THREAD name a charset always; erratum 4029: BAD unless UTF-8.
	c.cmd("g SORT (ARRIVAL) ISO-8859-1 ALL").status("BAD Error in IMAP command SORT: CHARSET must be UTF-8")
	c.cmd("h THREAD REFS ISO-8859-1 ALL").status("BAD Error in IMAP command THREAD: CHARSET must be UTF-8")
	c.cmd("i SORT (ARRIVAL) UTF-8 ALL").ok().equal("* SORT 1")
	rev1 := ts.login()
	rev1.cmd("a SELECT INBOX").ok()
	rev1.cmd("b SORT (ARRIVAL) ISO-8859-1 ALL").ok().equal("* SORT 1")
}

// A namespace prefix is a mailbox name too: UTF-8 after UTF8=ACCEPT
// (RFC 6855 section 3), modified UTF-7 otherwise.
func TestUTF8AcceptNamespacePrefix(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.namespaces = []storage.NamespaceConfig{
		{Name: "inbox", Type: "private", Prefix: "Persönlich/", Separator: "/", Inbox: true, List: "yes", Subscriptions: true},
	}
	c := ts.login()
	c.cmd("a NAMESPACE").ok().equal(`* NAMESPACE (("Pers&APY-nlich/" "/")) NIL NIL`)
	c.cmd("b ENABLE UTF8=ACCEPT").ok()
	c.cmd("c NAMESPACE").ok().equal(`* NAMESPACE (("Persönlich/" "/")) NIL NIL`)
	c.cmd(`d CREATE "Persönlich/Ablage"`).ok()
	c.cmd(`e LIST "" "Persönlich/*"`).ok().has(`* LIST (\HasNoChildren) "/" "Persönlich/Ablage"`)
}

// A mailbox whose name a UTF-8 client cannot send back (not NFC, made
// through modified UTF-7) is listed \Noselect after UTF8=ACCEPT; an
// IMAP4rev1 session reaches it by its modified UTF-7 name.
func TestUTF8AcceptUnreachableName(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	c.cmd("a CREATE Cafe&AwE-").ok() // "Cafe" + U+0301: not NFC
	c.cmd(`b LIST "" Caf*`).ok().equal(`* LIST (\HasNoChildren) "/" Cafe&AwE-`)
	c.cmd("c SELECT Cafe&AwE-").ok()
	c.cmd("d UNSELECT").ok()
	c.cmd("e ENABLE UTF8=ACCEPT").ok()
	c.cmd(`f LIST "" Caf*`).ok().equal("* LIST (\\Noselect \\HasNoChildren) \"/\" \"Cafe\u0301\"")
	c.cmd(`g LIST "" INBOX`).ok().equal(`* LIST (\HasNoChildren) "/" INBOX`)
}
