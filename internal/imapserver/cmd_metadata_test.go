package imapserver

import (
	"strconv"
	"strings"
	"testing"

	"roost/internal/storage"
)

// metadataServer is a server whose users have a server comment and admin
// (mail_server_comment, mail_server_admin).
func metadataServer(t *testing.T, driver string) *testServer {
	ts := newDriverServer(t, driver)
	ts.metadata = storage.MetadataConfig{ServerComment: "Shared comment", ServerAdmin: "mailto:admin@example.com"}
	return ts
}

// TestMetadataRFC5464Examples runs the examples of RFC 5464 section 4 as
// roost answers them (Dovecot's server /shared/comment and /shared/admin
// come from the configuration and cannot be set).
func TestMetadataRFC5464Examples(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := metadataServer(t, driver)
		c := ts.login()
		caps := c.cmd("a0 CAPABILITY").ok().untagged[0]
		if !strings.Contains(caps, " METADATA") || !strings.Contains(caps, " CREATE-SPECIAL-USE") {
			t.Errorf("capabilities %q lack METADATA or CREATE-SPECIAL-USE", caps)
		}

		// Section 4.2: GETMETADATA.
		c.cmd(`a GETMETADATA "" /shared/comment`).ok().equal("* METADATA \"\" (/shared/comment {14}\r\nShared comment)")
		c.cmd(`a1 SETMETADATA INBOX (/private/comment "My own comment" /shared/comment "Shared comment")`).ok()
		c.cmd(`a2 GETMETADATA INBOX /private/comment`).ok().equal("* METADATA INBOX (/private/comment {14}\r\nMy own comment)")
		c.cmd(`a3 GETMETADATA INBOX (/shared/comment /private/comment)`).ok().equal(
			"* METADATA INBOX (/shared/comment {14}\r\nShared comment /private/comment {14}\r\nMy own comment)")

		// Section 4.2.1: MAXSIZE.
		long := strings.Repeat("x", 2199)
		c.cmd(`b SETMETADATA INBOX (/shared/comment {2199+}` + "\r\n" + long + ")").ok()
		c.cmd(`b1 GETMETADATA (MAXSIZE 1024) INBOX (/shared/comment /private/comment)`).
			status("OK [METADATA LONGENTRIES 2199]").equal("* METADATA INBOX (/private/comment {14}\r\nMy own comment)")

		// Section 4.2.2: DEPTH.
		c.cmd(`c SETMETADATA INBOX (/private/filters/values/small "SMALLER 5000" /private/filters/values/boss {23+}` +
			"\r\nFROM \"boss@example.com\")").ok()
		c.cmd(`c1 GETMETADATA (DEPTH 1) INBOX (/private/filters/values)`).ok().equal(
			"* METADATA INBOX (/private/filters/values/boss {23}\r\nFROM \"boss@example.com\" " +
				"/private/filters/values/small {12}\r\nSMALLER 5000)")
		c.cmd(`c2 GETMETADATA (DEPTH 0) INBOX /private/filters`).ok().equal("* METADATA INBOX (/private/filters NIL)")
		c.cmd(`c3 GETMETADATA (DEPTH infinity) INBOX /private/filters`).ok().equal(
			"* METADATA INBOX (/private/filters/values/boss {23}\r\nFROM \"boss@example.com\" " +
				"/private/filters/values/small {12}\r\nSMALLER 5000)")
		c.cmd(`c4 GETMETADATA (DEPTH 1) INBOX /private/filters`).ok().equal()

		// Section 4.3: SETMETADATA, with a literal over two lines, and NIL.
		c.send("d SETMETADATA INBOX (/private/comment {33}")
		c.expect("+ ")
		c.sendRaw("My new comment across\r\ntwo lines.)\r\n")
		c.collect("d").ok()
		c.cmd(`d1 GETMETADATA INBOX /private/comment`).ok().equal(
			"* METADATA INBOX (/private/comment {33}\r\nMy new comment across\r\ntwo lines.)")
		c.cmd(`d2 SETMETADATA INBOX (/private/comment NIL)`).ok()
		c.cmd(`d3 GETMETADATA INBOX /private/comment`).ok().equal("* METADATA INBOX (/private/comment NIL)")
		c.cmd(`d4 SETMETADATA "" (/private/comment "Server private")`).ok()
		c.cmd(`d5 GETMETADATA "" (/private/comment /shared/admin)`).ok().equal(
			"* METADATA \"\" (/private/comment {14}\r\nServer private /shared/admin {24}\r\nmailto:admin@example.com)")
		c.cmd(`d6 GETMETADATA INBOX /private/comment`).ok().equal("* METADATA INBOX (/private/comment NIL)")

		// Errors of section 4.3 and Dovecot's read-only server entries.
		c.cmd(`e SETMETADATA "" (/shared/comment "x")`).status(
			"NO [CANNOT] The /shared/vendor/vendor.dovecot/pvt/server/comment attribute cannot be changed")
		c.cmd(`e2 SETMETADATA NoSuch (/private/comment "x")`).status("NO Mailbox doesn't exist: NoSuch")
		c.cmd(`e3 SETMETADATA INBOX (/comment "x")`).status("BAD Error in IMAP command SETMETADATA: Entry name must begin with /private or /shared")
		c.cmd(`e4 GETMETADATA INBOX "/private/a*"`).status("BAD Error in IMAP command GETMETADATA: Entry name can't contain '*'")
		c.cmd(`e5 GETMETADATA INBOX /private/a/`).status("BAD")
		c.cmd(`e6 GETMETADATA INBOX /private//a`).status("BAD")
		c.cmd(`e7 GETMETADATA (DEPTH 2) INBOX /private`).status("BAD Error in IMAP command GETMETADATA: Invalid value for DEPTH option")
		c.cmd(`e8 GETMETADATA (FOO 1) INBOX /private`).status("BAD Error in IMAP command GETMETADATA: Unknown option")
		c.cmd(`e9 SETMETADATA INBOX (/private/x)`).status("BAD Error in IMAP command SETMETADATA: Entry value missing")
		c.cmd(`e10 GETMETADATA INBOX`).status("BAD")
		c.cmd(`e11 GETMETADATA INBOX ()`).ok().equal()
		c.cmd(`e12 SETMETADATA INBOX ()`).ok()
		c.cmd(`e13 GETMETADATA INBOX /PRIVATE/FILTERS/VALUES/SMALL`).ok().equal(
			"* METADATA INBOX (/private/filters/values/small {12}\r\nSMALLER 5000)")
	})
}

// TestMetadataTooMany: a SETMETADATA that would leave more than
// maxMetadataEntries entries is refused with [METADATA TOOMANY].
func TestMetadataTooMany(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	u := ts.user("alice")
	var es []storage.MetadataEntry
	for i := range maxMetadataEntries {
		es = append(es, storage.MetadataEntry{Name: "/private/e" + strconv.Itoa(i), Value: []byte("v")})
	}
	if err := u.(storage.MetadataStore).SetMetadata(t.Context(), "INBOX", es); err != nil {
		t.Fatal(err)
	}
	c := ts.login()
	c.cmd(`a SETMETADATA INBOX (/private/one-more "x")`).status("NO [METADATA TOOMANY]")
	c.cmd(`b SETMETADATA INBOX (/private/e1 "replaced" /private/e2 NIL /private/new "x")`).ok()
	c.cmd(`c SETMETADATA "" (/private/one "x")`).ok()
}

// TestMetadataMailboxLifecycle: entries follow RENAME, go with DELETE and
// work in the selected state.
func TestMetadataMailboxLifecycle(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a CREATE Other").ok()
		c.cmd(`b SETMETADATA Other (/private/comment "other" /shared/comment "sh")`).ok()
		c.cmd("c RENAME Other Renamed").ok()
		c.cmd(`d GETMETADATA Renamed (/private/comment /shared/comment)`).ok().equal(
			"* METADATA Renamed (/private/comment {5}\r\nother /shared/comment {2}\r\nsh)")
		c.cmd(`e GETMETADATA Other /private/comment`).status("NO Mailbox doesn't exist: Other")
		c.cmd("f SELECT Renamed").ok()
		c.cmd(`g SETMETADATA Renamed (/private/comment "selected")`).ok()
		c.cmd(`h GETMETADATA Renamed /private/comment`).ok().equal("* METADATA Renamed (/private/comment {8}\r\nselected)")
		c.cmd("i UNSELECT").ok()
		c.cmd("j DELETE Renamed").ok()
		c.cmd("k CREATE Renamed").ok()
		c.cmd(`l GETMETADATA Renamed (/private/comment /shared/comment)`).ok().equal(
			"* METADATA Renamed (/private/comment NIL /shared/comment NIL)")
	})
}

// TestCreateSpecialUseKept: CREATE's USE (RFC 6154 section 3) is kept, listed
// and readable as /private/specialuse; \All and \Flagged (virtual
// mailboxes roost does not have) and unknown flags are USEATTR.
func TestCreateSpecialUseKept(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd(`a CREATE Spam (USE (\Junk))`).ok()
		c.cmd(`b CREATE MySpecial (USE (\Drafts \Sent))`).ok()
		c.cmd(`c LIST "" *`).ok().equal(
			`* LIST (\HasNoChildren) "/" INBOX`,
			`* LIST (\HasNoChildren \Drafts \Sent) "/" MySpecial`,
			`* LIST (\HasNoChildren \Junk) "/" Spam`,
		)
		c.cmd(`d LIST (SPECIAL-USE) "" *`).ok().equal(
			`* LIST (\Drafts \Sent) "/" MySpecial`,
			`* LIST (\Junk) "/" Spam`,
		)
		c.cmd(`e GETMETADATA Spam /private/specialuse`).ok().equal("* METADATA Spam (/private/specialuse {5}\r\n\\Junk)")
		c.cmd(`f SETMETADATA Spam (/private/specialuse "\\Trash")`).status(
			"NO [CANNOT] The /private/specialuse attribute cannot be changed")
		c.cmd(`g CREATE Everything (USE (\All))`).status(`NO [USEATTR]`)
		c.cmd(`h CREATE Bogus (USE (\Bogus))`).status(`NO [USEATTR]`)
		c.cmd(`i RENAME Spam Junk`).ok()
		c.cmd(`j LIST "" Junk`).ok().equal(`* LIST (\HasNoChildren \Junk) "/" Junk`)
		c.cmd(`k CREATE Spam`).ok()
		c.cmd(`l LIST "" Spam`).ok().equal(`* LIST (\HasNoChildren) "/" Spam`)
	})
}

// TestMetadataLargeAndBinaryValues: values above imap_max_line_length are
// taken (Dovecot streams them), a literal8 value with NUL comes back as a
// literal8, and a synchronising literal over the limit is refused before
// its data with [METADATA MAXSIZE].
func TestMetadataLargeAndBinaryValues(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	big := strings.Repeat("z", 70000)
	c.cmd("a SETMETADATA INBOX (/private/big {70000+}\r\n" + big + ")").ok()
	c.cmd("b GETMETADATA INBOX /private/big").ok().equal("* METADATA INBOX (/private/big {70000}\r\n" + big + ")")
	c.cmd("c SETMETADATA INBOX (/private/bin ~{3+}\r\na\x00b)").ok()
	c.send("d GETMETADATA INBOX /private/bin")
	c.expect("* METADATA INBOX (/private/bin ~{3}")
	c.collect("d").ok()
	c.cmd("e SETMETADATA INBOX (/private/huge {" + strconv.Itoa(maxMetadataValue+1) + "}").
		status("NO [METADATA MAXSIZE " + strconv.Itoa(maxMetadataValue) + "]")
	c.cmd("f NOOP").ok()
}

// TestMetadataConfiguredComment: a mailbox section's comment is its
// /private/comment until one is set (Dovecot's default-rank attribute);
// Dovecot's internal entries cannot be set (and read as NIL).
func TestMetadataConfiguredComment(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.namespaces = []storage.NamespaceConfig{{Name: "inbox", Type: "private", Separator: "/", Inbox: true,
			List: "yes", Subscriptions: true, Mailboxes: []storage.MailboxConfig{
				{Name: "Drafts", SpecialUse: []string{`\Drafts`}, Auto: "create", Comment: "my drafts"}}}}
		c := ts.login()
		c.cmd(`a GETMETADATA Drafts (/private/comment /private/specialuse)`).ok().equal(
			"* METADATA Drafts (/private/comment {9}\r\nmy drafts /private/specialuse {7}\r\n\\Drafts)")
		c.cmd(`b SETMETADATA Drafts (/private/comment "x")`).ok()
		c.cmd(`c GETMETADATA Drafts /private/comment`).ok().equal("* METADATA Drafts (/private/comment {1}\r\nx)")
		c.cmd(`d SETMETADATA Drafts (/private/comment NIL)`).ok()
		c.cmd(`e GETMETADATA Drafts /private/comment`).ok().equal("* METADATA Drafts (/private/comment {9}\r\nmy drafts)")
		c.cmd(`f SETMETADATA INBOX (/private/vendor/vendor.dovecot/pvt/server/comment "x")`).status(
			"NO [CANNOT] Internal mailbox attributes cannot be accessed")
		c.cmd(`g GETMETADATA INBOX /shared/vendor/vendor.dovecot/pvt`).ok().equal(
			"* METADATA INBOX (/shared/vendor/vendor.dovecot/pvt NIL)")
		c.cmd(`h SETMETADATA INBOX (/shared/vendor/vendor.dovecot/x "ok")`).ok()
	})
}
