package imapserver

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

// TestAppendBinary: a literal8 (RFC 3516 section 4.4) is stored with its
// Content-Transfer-Encoding: binary parts in base64, byte for byte as
// Dovecot 2.3.19 stores them (answers recorded from a live Dovecot).
func TestAppendBinary(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\x00\x01", 60)))
	cases := []struct{ in, want string }{
		{"Subject: b1\r\nContent-Transfer-Encoding: binary\r\n\r\nhello\x00world\r\n",
			"Subject: b1\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8Ad29ybGQNCg=="},
		{"Subject: b2\r\n\r\nhello\x00world\r\n", "Subject: b2\r\n\r\nhello\x00world\r\n"},
		{"Subject: b3\r\ncontent-transfer-encoding:  BINARY (c)\r\nX-A: 1\r\n\r\nhello\r\n",
			"Subject: b3\r\ncontent-transfer-encoding:  BINARY (c)\r\nX-A: 1\r\n\r\nhello\r\n"},
		{"Subject: b4\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" +
			"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\xff\r\n--x--\r\n",
			"Subject: b4\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" +
				"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC/w==\r\n--x--\r\n"},
		{"Subject: b5\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\npre\r\n--x\r\n" +
			"Content-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Transfer-Encoding: binary\r\n\r\nabc\r\n--x\r\n" +
			"Content-Transfer-Encoding: binary\r\n\r\nxyz\r\n--x--\r\nepi\r\n",
			"Subject: b5\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\npre\r\n--x\r\n" +
				"Content-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Transfer-Encoding: base64\r\n\r\nYWJj\r\n--x\r\n" +
				"Content-Transfer-Encoding: base64\r\n\r\neHl6\r\n--x--\r\nepi\r\n"},
		{"Subject: b6\r\nContent-Transfer-Encoding: binary\r\n\r\n" + strings.Repeat("\x00\x01", 60),
			"Subject: b6\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64[:76] + "\r\n" + b64[76:152] + "\r\n" + b64[152:]},
	}
	for i, tc := range cases {
		if got := string(convertBinary([]byte(tc.in))); got != tc.want {
			t.Errorf("case %d:\n got %q\nwant %q", i, got, tc.want)
		}
	}
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.send("a1 APPEND INBOX ~{" + itoa(uint32(len(cases[0].in))) + "}")
		c.expect("+ OK")
		c.sendRaw(cases[0].in + "\r\n")
		c.collect("a1").status("OK [APPENDUID ")
		c.cmd("a2 APPEND INBOX (\\Seen) ~{" + itoa(uint32(len(cases[1].in))) + "+}\r\n" + cases[1].in).ok()
		c.cmd("a3 APPEND INBOX ~5").status("BAD Error in IMAP command APPEND: Invalid literal8.")
		c.cmd("a4 SELECT INBOX").ok()
		c.cmd("a5 FETCH 1 (BODY.PEEK[] BINARY.PEEK[1] BINARY.SIZE[1])").ok().
			has("* 1 FETCH (BODY[] {70}\r\n" + cases[0].want + " BINARY[1] ~{13}\r\nhello\x00world\r\n BINARY.SIZE[1] 13)")
		c.cmd("a6 FETCH 2 (FLAGS BINARY.PEEK[1])").ok().has("* 2 FETCH (FLAGS (\\Seen \\Recent) BINARY[1] ~{13}\r\nhello\x00world\r\n)")
	})
}

// TestMultiAppend: several messages in one APPEND (RFC 3502) are saved
// all or none, in one transaction of the driver.
func TestMultiAppend(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		uv := uidValidityOf(ts, "INBOX")
		m1, m2 := "Subject: m1\r\n\r\nbody one\r\n", "Subject: m2\r\n\r\nbody two\r\n"
		c.send("a1 APPEND INBOX (\\Seen) {25}")
		c.expect("+ OK")
		c.send(m1 + " (\\Flagged) \"01-Jan-2020 00:00:00 +0000\" {25}")
		c.expect("+ OK")
		c.send(m2)
		c.collect("a1").status("OK [APPENDUID ").status("OK [APPENDUID " + uv + " 1:2]")
		// A bad second message: the first is not kept.
		c.cmd("a2 APPEND INBOX {25+}\r\n" + m1 + " (\\Bogus) {3+}\r\nabc").
			status("BAD Error in IMAP command APPEND: Invalid system flag \\BOGUS")
		c.cmd("a3 APPEND INBOX {25+}\r\n" + m1 + " {0+}\r\n").status("NO Can't save a zero byte message.")
		c.cmd("a4 APPEND INBOX {25+}\r\n" + m1 + " {25+}\r\n" + m2 + " {25+}\r\n" + m1).ok().
			status("OK [APPENDUID " + uv + " 3:5]") // the failed ones used no UIDs
		c.cmd("a5 STATUS INBOX (MESSAGES)").ok().has("* STATUS INBOX (MESSAGES 5)")
		c.cmd("a6 SELECT INBOX").ok()
		c.cmd("a7 FETCH 1:2 (FLAGS INTERNALDATE)").ok().
			has(`* 1 FETCH (FLAGS (\Seen \Recent) INTERNALDATE "06-May-2024 07:08:09 +0000")`).
			has(`* 2 FETCH (FLAGS (\Flagged \Recent) INTERNALDATE "01-Jan-2020 00:00:00 +0000")`)
		c.cmd("a8 APPEND Nope {25+}\r\n" + m1).status("NO [TRYCREATE]")
	})
}

// TestCatenate: CATENATE (RFC 4469) with TEXT parts and URLs to the
// user's own messages, sections and URL-PARTIAL (RFC 5550); results as
// Dovecot 2.3.19 gave them.
func TestCatenate(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", "Subject: m1\r\n\r\nbody one\r\n")
		c := ts.login()
		uv := uidValidityOf(ts, "INBOX")
		c.cmd(`a1 APPEND INBOX CATENATE (TEXT {25+}` + "\r\nSubject: m1\r\n\r\nbody one\r\n" +
			` URL "/INBOX;UIDVALIDITY=` + uv + `/;UID=1" URL "/INBOX/;UID=1/;SECTION=TEXT" URL "/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=2.3")`).
			status("OK [APPENDUID " + uv + " 2]")
		urls := []struct{ url, want string }{
			{"/INBOX/;UID=1/;SECTION=HEADER", "OK [APPENDUID " + uv + " 3]"},
			{"/INBOX/;UID=1/;PARTIAL=5", "OK [APPENDUID " + uv + " 4]"},
			{"/INBOX/;UID=1/;SECTION=1", "OK [APPENDUID " + uv + " 5]"},
			{"/INBOX/;UID=1/;SECTION=HEADER.FIELDS%20(Subject)", "OK [APPENDUID " + uv + " 6]"},
			{"inbox/;UID=1", "OK [APPENDUID " + uv + " 7]"},
			{"/INBOX/;UID=99", "NO [BADURL /INBOX/;UID=99] Message not found"},
			{"/INBOX;UIDVALIDITY=7/;UID=1", "NO [BADURL /INBOX;UIDVALIDITY=7/;UID=1] Invalid UIDVALIDITY"},
			{"imap://alice@localhost/INBOX/;UID=1", "NO [BADURL imap://alice@localhost/INBOX/;UID=1] Invalid IMAP URL: Relative URL required"},
			{"/Nope/;UID=1", "NO [BADURL /Nope/;UID=1] Mailbox doesn't exist: Nope"},
			{"/INBOX;UID=1", "NO [BADURL /INBOX;UID=1] Invalid IMAP URL: Encountered stray ';' in mailbox reference"},
			{"/INBOX/;UID=1/;URLAUTH=x", "NO [BADURL /INBOX/;UID=1/;URLAUTH=x] Invalid IMAP URL: Unexpected IMAP URL path segment: `;URLAUTH=x'"},
		}
		for i, u := range urls {
			c.cmd("b" + itoa(uint32(i)) + ` APPEND INBOX CATENATE (URL "` + u.url + `")`).status(u.want)
		}
		c.cmd("c1 APPEND INBOX CATENATE ()").status("BAD Error in IMAP command APPEND: Empty CATENATE list")
		c.cmd(`c2 APPEND INBOX CATENATE (BOGUS "x")`).status("BAD Error in IMAP command APPEND: Invalid arguments.")
		c.cmd(`c3 APPEND INBOX (\Seen) "01-Jan-2020 00:00:00 +0000" CATENATE (URL "/INBOX/;UID=1" TEXT {4+}` + "\r\nabcd)" +
			` CATENATE (TEXT ~{3+}` + "\r\nxyz)").status("OK [APPENDUID " + uv + " 8:9]")
		c.cmd("d1 SELECT INBOX").ok()
		c.cmd("d2 UID FETCH 2:9 (BODY.PEEK[])").ok().equal(
			"* 2 FETCH (UID 2 BODY[] {63}\r\nSubject: m1\r\n\r\nbody one\r\nSubject: m1\r\n\r\nbody one\r\nbody one\r\ndy )",
			"* 3 FETCH (UID 3 BODY[] {15}\r\nSubject: m1\r\n\r\n)",
			"* 4 FETCH (UID 4 BODY[] {20}\r\nct: m1\r\n\r\nbody one\r\n)",
			"* 5 FETCH (UID 5 BODY[] {10}\r\nbody one\r\n)",
			"* 6 FETCH (UID 6 BODY[] {15}\r\nSubject: m1\r\n\r\n)",
			"* 7 FETCH (UID 7 BODY[] {25}\r\nSubject: m1\r\n\r\nbody one\r\n)",
			"* 8 FETCH (UID 8 BODY[] {29}\r\nSubject: m1\r\n\r\nbody one\r\nabcd)",
			"* 9 FETCH (UID 9 BODY[] {3}\r\nxyz)")
		// The selected mailbox's view serves URLs too.
		c.cmd(`d3 APPEND INBOX CATENATE (URL "/INBOX/;UID=9")`).status("OK [APPENDUID " + uv + " 10]")
	})
}

// TestReplace: REPLACE and UID REPLACE (RFC 8508 section 3 examples).
func TestReplace(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		for i := 0; i < 4; i++ {
			ts.appendMsg("alice", "INBOX", "Subject: draft "+itoa(uint32(i))+"\r\n\r\nx\r\n")
		}
		c := ts.login()
		c.cmd("a0 CREATE Drafts").ok()
		uv, dv := uidValidityOf(ts, "INBOX"), uidValidityOf(ts, "Drafts")
		c.cmd("a1 SELECT INBOX").ok()
		c.cmd("a2 REPLACE 4 INBOX (\\Seen \\Draft) {19+}\r\nSubject: new\r\n\r\nx\r\n").ok().
			equal("* OK [APPENDUID "+uv+" 5] Replacement Message ready", "* 4 EXPUNGE", "* 4 EXISTS")
		c.cmd("a3 UID REPLACE 2 Drafts {19+}\r\nSubject: new\r\n\r\ny\r\n").ok().
			has("* OK [APPENDUID " + dv + " 1] Replacement Message ready").has("* 2 EXPUNGE").lacks("* 3 EXISTS")
		c.cmd("a4 UID REPLACE 2 Drafts {19+}\r\nSubject: new\r\n\r\ny\r\n").status("NO Message not found.")
		c.cmd("a5 REPLACE 9 Drafts {19+}\r\nSubject: new\r\n\r\ny\r\n").status("BAD Error in IMAP command REPLACE: Invalid messageset")
		c.cmd("a6 REPLACE 1 Nope {19+}\r\nSubject: new\r\n\r\ny\r\n").status("NO [TRYCREATE]")
		c.cmd("a7 FETCH 1:* (UID)").ok().equal("* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 5)")
		c.cmd("a8 ENABLE QRESYNC").ok()
		c.cmd("a9 UID REPLACE 3 INBOX {19+}\r\nSubject: new\r\n\r\nz\r\n").ok().
			has("* VANISHED 3").has("* OK [APPENDUID " + uv + " 6] Replacement Message ready")
		c.cmd("b1 EXAMINE INBOX").ok()
		c.cmd("b2 REPLACE 1 INBOX {19+}\r\nSubject: new\r\n\r\nz\r\n").status("NO Mailbox is read-only.")
		c.cmd("b3 STATUS Drafts (MESSAGES)").ok().has("* STATUS Drafts (MESSAGES 1)")
	})
}

// TestAppendLimit: APPENDLIMIT (RFC 7889) from Options.AppendLimit.
func TestAppendLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	c.cmd("a1 CAPABILITY").ok().lacks("* CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT APPENDLIMIT")
	c.cmd("a2 STATUS INBOX (APPENDLIMIT)").status("BAD Error in IMAP command STATUS: Invalid status item APPENDLIMIT")
	ts = newTestServer(t, func(o *Options) { o.AppendLimit = 100 })
	c = ts.login()
	if r := c.cmd("b1 CAPABILITY").ok(); !strings.HasSuffix(r.untagged[0], " APPENDLIMIT=100") {
		t.Fatalf("capability %q lacks APPENDLIMIT=100", r.untagged[0])
	}
	c.cmd("b2 STATUS INBOX (MESSAGES APPENDLIMIT)").ok().has("* STATUS INBOX (MESSAGES 0 APPENDLIMIT 100)")
	c.cmd("b3 APPEND INBOX {101}").status("NO [TOOBIG]")
	c.cmd("b4 APPEND INBOX {100+}\r\n" + "Subject: x\r\n\r\n" + strings.Repeat("y", 85)).ok()
}

// uidValidityOf is a mailbox's UIDVALIDITY, as text.
func uidValidityOf(ts *testServer, name string) string {
	ts.t.Helper()
	st, err := ts.user("alice").Status(context.Background(), name)
	if err != nil {
		ts.t.Fatal(err)
	}
	return itoa(st.UIDValidity)
}
