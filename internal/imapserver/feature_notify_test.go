package imapserver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"roost/internal/maildir"
)

// notifyAll is the NOTIFY SET the tests use most: everything roost
// supports, for the selected mailbox and every personal one.
const notifyAll = "NOTIFY SET (SELECTED (MessageNew (UID FLAGS) MessageExpunge FlagChange)) " +
	"(PERSONAL (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))"

// TestNotifySyntax: what NOTIFY accepts and refuses, worded as Dovecot
// does (e2e/testdata/imap/19-notify*.dovecot).
func TestNotifySyntax(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	c.cmd("a0 CAPABILITY").has("* CAPABILITY " + c.capsLine(ts))
	for _, tc := range []struct{ args, want string }{
		{"", "BAD Error in IMAP command NOTIFY: Invalid arguments"},
		{"FOO", "BAD Error in IMAP command NOTIFY: Invalid arguments"},
		{"SET", "OK NOTIFY completed."},
		{"NONE", "OK NOTIFY completed."},
		{"NONE extra", "OK NOTIFY completed."},
		{"SET (PERSONAL (MessageNew MessageExpunge))", "OK"},
		{"SET (SELECTED (MessageNew))", "BAD Error in IMAP command NOTIFY: MessageNew and MessageExpunge must be together"},
		{"SET (SELECTED (FlagChange))", "BAD Error in IMAP command NOTIFY: FlagChange requires MessageNew and MessageExpunge"},
		{"SET (INBOXES (MessageNew (UID)))", "BAD Error in IMAP command NOTIFY: Invalid arguments"},
		{"SET (PERSONAL (Foo))", "BAD Error in IMAP command NOTIFY: Invalid arguments"},
		{"SET (PERSONAL (AnnotationChange MessageNew MessageExpunge))", "NO [BADEVENT AnnotationChange] Unsupported NOTIFY events"},
		{"SET (PERSONAL (MailboxMetadataChange ServerMetadataChange MailboxName))",
			"NO [BADEVENT MailboxMetadataChange ServerMetadataChange] Unsupported NOTIFY events"},
		{"SET (SELECTED (MessageNew MessageExpunge)) (SELECTED-DELAYED (MessageNew MessageExpunge))",
			"BAD Error in IMAP command NOTIFY: Duplicate selected filter"},
		{"SET (SELECTED-DELAYED (MessageNew (UID) MessageExpunge)) (SUBTREE Lists (MessageNew MessageExpunge)) " +
			"(MAILBOXES (Sent Trash) (MessageNew MessageExpunge)) (INBOXES NONE)", "OK"},
		{`SET (SUBTREE "Lists" (MessageNew MessageExpunge FlagChange))`, "OK"},
		{"SET (SELECTED (MessageExpunge MessageNew (FLAGS)))", "OK"},
		{"SET (SELECTED NONE)", "OK"},
		{"SET (MAILBOXES Nonexistent (MessageNew MessageExpunge))", "OK"},
		{"SET STATUS (MAILBOXES Nonexistent (MessageNew MessageExpunge))", "OK"},
		{"SET (SELECTED (MessageNew (BODY[]) MessageExpunge))", "OK"},
		{"SET STATUS STATUS (SELECTED NONE)", "BAD Error in IMAP command NOTIFY: Invalid arguments"},
		{"SET (SELECTED (MessageNew (UID) MessageExpunge)", "BAD Error in IMAP command NOTIFY: Invalid arguments"},
		// RFC 5465 section 3 example, and its lower-case spelling.
		{"SET (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge)) " +
			"(subtree Lists (MessageNew MessageExpunge))", "OK"},
	} {
		c.cmd("a NOTIFY " + tc.args).status(tc.want)
	}
}

// expectSuffix reads one line and checks its prefix and suffix.
func expectSuffix(c *tconn, prefix, suffix string) {
	c.t.Helper()
	if l := c.expect(prefix); !strings.HasSuffix(l, suffix) {
		c.t.Fatalf("got %q, want suffix %q", l, suffix)
	}
}

// capsLine returns the post-login capability list.
func (c *tconn) capsLine(ts *testServer) string {
	c.t.Helper()
	r := c.cmd("cap CAPABILITY")
	line := strings.TrimPrefix(r.untagged[0], "* CAPABILITY ")
	if !strings.Contains(" "+line+" ", " NOTIFY ") {
		c.t.Fatalf("NOTIFY not advertised: %s", line)
	}
	return line
}

// TestNotifyOtherSession: a second session's changes reach a client that
// is not in IDLE, as they happen (RFC 5465 section 1): new mail, flag
// changes and expunges in the selected mailbox and in another one,
// mailbox creation, subscription, rename and deletion.
func TestNotifyOtherSession(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		a, b := ts.login(), ts.login()
		b.cmd("b CREATE Other").ok()
		a.cmd("a1 " + notifyAll).ok()
		a.cmd("a2 SELECT INBOX").ok()

		ts.appendMsg("alice", "INBOX", testMsg) // a delivery
		a.expect("* 1 EXISTS")
		a.expect("* 1 RECENT")
		a.expect(`* 1 FETCH (UID 1 FLAGS (\Recent))`)

		ts.appendMsg("alice", "Other", testMsg)
		a.expect("* STATUS Other (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ") // the first report carries it
		b.cmd("b CREATE Third").ok()
		a.expect(`* LIST () "/" Third`)
		b.cmd("b SUBSCRIBE Third").ok()
		a.expect(`* LIST (\Subscribed) "/" Third`)
		b.cmd("b UNSUBSCRIBE Third").ok()
		a.expect(`* LIST () "/" Third`)
		b.cmd("b CREATE Third/Sub").ok()
		a.expect(`* LIST () "/" Third/Sub`)
		b.cmd("b RENAME Third Fourth").ok()
		a.expect(`* LIST () "/" Fourth ("OLDNAME" (Third))`)
		a.expect(`* LIST () "/" Fourth/Sub ("OLDNAME" (Third/Sub))`)
		b.cmd("b DELETE Fourth/Sub").ok()
		a.expect(`* LIST (\NonExistent) "/" Fourth/Sub`)
		b.cmd("b SELECT Other").ok()
		b.cmd(`b STORE 1 +FLAGS (\Seen)`).ok()
		a.expect("* STATUS Other (UNSEEN 0 HIGHESTMODSEQ ")
		b.cmd(`b STORE 1 +FLAGS (\Flagged)`).ok() // UNSEEN unchanged: only the MODSEQ, as Dovecot
		a.expect("* STATUS Other (HIGHESTMODSEQ ")
		b.cmd(`b STORE 1 +FLAGS.SILENT (\Deleted)`).ok()
		a.expect("* STATUS Other (HIGHESTMODSEQ ")
		b.cmd("b EXPUNGE").ok()
		a.expect("* STATUS Other (MESSAGES 0 UIDNEXT 2 UNSEEN 0 HIGHESTMODSEQ ")
		b.cmd("b DELETE Fourth").ok()
		a.expect(`* LIST (\NonExistent) "/" Fourth`)

		// The selected mailbox: flag change and expunge by B.
		b.cmd("b SELECT INBOX").ok()
		b.cmd(`b STORE 1 +FLAGS (\Answered)`).ok()
		expectSuffix(a, "* 1 FETCH (MODSEQ (", ` FLAGS (\Answered \Recent))`) // FlagChange enabled CONDSTORE
		b.cmd(`b STORE 1 +FLAGS.SILENT (\Deleted)`).ok()
		expectSuffix(a, "* 1 FETCH (MODSEQ (", ` FLAGS (\Answered \Deleted \Recent))`)
		b.cmd("b EXPUNGE").ok()
		a.expect("* 1 EXPUNGE")
		a.cmd("a3 NOOP").ok().lacks("* 1 EXPUNGE").lacks("* STATUS")

		// NOTIFY NONE: nothing more arrives.
		a.cmd("a4 NOTIFY NONE").ok()
		ts.appendMsg("alice", "Other", testMsg)
		b.cmd("b CREATE Fifth").ok()
		a.cmd("a5 NOOP").ok().equal()
	})
}

// TestNotifyIdle: the same events reach a client in IDLE.
func TestNotifyIdle(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		a, b := ts.login(), ts.login()
		b.cmd("b CREATE Other").ok()
		a.cmd("a1 " + notifyAll).ok()
		a.cmd("a2 SELECT INBOX").ok()
		a.send("a3 IDLE")
		a.expect("+ idling")
		ts.appendMsg("alice", "INBOX", testMsg)
		a.expect("* 1 EXISTS")
		a.expect("* 1 RECENT")
		a.expect(`* 1 FETCH (UID 1 FLAGS (\Recent))`)
		ts.appendMsg("alice", "Other", testMsg)
		a.expect("* STATUS Other (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ") // the first report carries it
		b.cmd("b CREATE Third").ok()
		a.expect(`* LIST () "/" Third`)
		a.send("DONE")
		a.collect("a3").ok()
	})
}

// TestNotifyStatus: NOTIFY SET STATUS reports every covered mailbox but
// the selected one; HIGHESTMODSEQ once FlagChange enabled CONDSTORE.
func TestNotifyStatus(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		a := ts.login()
		a.cmd("a CREATE Lists/a").ok()
		a.cmd("a CREATE Lists/b").ok()
		a.cmd("a CREATE Sent").ok()
		ts.appendMsg("alice", "Lists/a", testMsg, `\Seen`)
		for _, flagChange := range []string{"", " FlagChange"} {
			r := a.cmd("a1 NOTIFY SET STATUS (SUBTREE Lists (MessageNew MessageExpunge)) (MAILBOXES (Sent Nonexistent) (MessageNew MessageExpunge" + flagChange + "))").ok()
			if len(r.untagged) != 3 {
				t.Fatalf("untagged %q", r.untagged)
			}
			for _, l := range r.untagged {
				if !strings.HasPrefix(l, "* STATUS Lists/a (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ") &&
					!strings.HasPrefix(l, "* STATUS Lists/b (MESSAGES 0 UIDNEXT 1 UIDVALIDITY ") &&
					!strings.HasPrefix(l, "* STATUS Sent (MESSAGES 0 UIDNEXT 1 UIDVALIDITY ") {
					t.Errorf("unexpected %q", l)
				}
				if strings.Contains(l, " UNSEEN 0 HIGHESTMODSEQ ") != (flagChange != "") {
					t.Errorf("HIGHESTMODSEQ with %q: %q", flagChange, l)
				}
			}
		}
		a.cmd("a2 SELECT Lists/a").ok()
		b := ts.login()
		b.cmd("b1 NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge))").ok()
		b.cmd("b2 SELECT Lists/a").ok()
		b.cmd("b3 NOTIFY SET STATUS (PERSONAL (MessageNew MessageExpunge))").ok().lacks("* STATUS Lists/a ").
			has("* STATUS Lists/b (MESSAGES 0 UIDNEXT 1 UIDVALIDITY " + statusValidity(t, ts, "Lists/b") + " UNSEEN 0)")
	})
}

func statusValidity(t *testing.T, ts *testServer, name string) string {
	st, err := ts.user("alice").Status(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(st.UIDValidity)
}

// TestNotifySelectedDelayed: with SELECTED-DELAYED an expunge by another
// session waits for a command that may announce it; new mail does not.
func TestNotifySelectedDelayed(t *testing.T) {
	t.Parallel()
	ts := newDriverServer(t, "maildir")
	ts.appendMsg("alice", "INBOX", testMsg)
	a, b := ts.login(), ts.login()
	a.cmd("a1 NOTIFY SET (SELECTED-DELAYED (MessageNew (UID) MessageExpunge)) (PERSONAL (MailboxName))").ok()
	a.cmd("a2 SELECT INBOX").ok()
	b.cmd("b SELECT INBOX").ok()
	b.cmd(`b STORE 1 +FLAGS.SILENT (\Deleted)`).ok()
	b.cmd("b EXPUNGE").ok()
	ts.appendMsg("alice", "INBOX", testMsg)
	a.expect("* 2 EXISTS")
	a.expect("* 2 RECENT")
	a.expect("* 2 FETCH (UID 2)")
	b.cmd("b CREATE Marker").ok() // a notification after the expunge's
	a.expect(`* LIST () "/" Marker`)
	a.cmd("a3 NOOP").ok().has("* 1 EXPUNGE")
}

// TestNotifyOwnChanges: the client's own changes to other mailboxes are
// reported after the command that made them (Dovecot does the same); its
// changes to the selected mailbox come in the command's own responses.
func TestNotifyOwnChanges(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		a := ts.login()
		a.cmd("a0 CREATE Other").ok()
		a.cmd("a1 " + notifyAll).ok()
		a.cmd("a2 SELECT INBOX").ok()
		a.cmd("a3 CREATE Own").ok().lacks("* LIST")
		a.expect(`* LIST () "/" Own`)
		ts.appendMsg("alice", "INBOX", testMsg)
		a.expect("* 1 EXISTS")
		a.expect("* 1 RECENT")
		a.expect(`* 1 FETCH (UID 1 FLAGS (\Recent))`)
		a.cmd("a4 COPY 1 Other").ok()
		a.expect("* STATUS Other (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ") // the first report carries it
		r := a.cmd(`a5 STORE 1 +FLAGS (\Seen)`).ok()
		if len(r.untagged) != 1 || !strings.HasSuffix(r.untagged[0], ` FLAGS (\Seen \Recent))`) {
			t.Fatalf("untagged %q", r.untagged)
		}
		a.cmd("a6 NOOP").ok().equal()
	})
}

// TestNotifyOtherProcess: a message another process writes into a
// mailbox that is not selected (dovecot-lda, Postfix's virtual) is found
// by the driver's poll and reported.
func TestNotifyOtherProcess(t *testing.T) {
	t.Parallel()
	ts := newDriverServer(t, "maildir")
	a := ts.login()
	a.cmd("a0 CREATE Other").ok()
	a.cmd("a1 " + notifyAll).ok()
	drv := ts.drv.(*maildir.Driver)
	dir := filepath.Join(ts.dir, "alice", "Other", "new")
	if err := os.WriteFile(filepath.Join(dir, "1700000001.P9Q1.mx"), []byte(testMsg), 0o600); err != nil {
		t.Fatal(err)
	}
	drv.Poll(context.Background())
	a.expect("* STATUS Other (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ") // the first report carries it
	if err := os.MkdirAll(filepath.Join(ts.dir, "alice", "Outside", "cur"), 0o700); err != nil {
		t.Fatal(err)
	}
	drv.Poll(context.Background())
	a.expect(`* LIST () "/" Outside`)
	a.cmd("a2 NOOP").ok().equal()
}

// TestNotifyOverflow: a client that does not read while changes pile up
// gets [NOTIFICATIONOVERFLOW] and no notifications after it (RFC 5465
// section 5.8).
func TestNotifyOverflow(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	a := ts.login()
	a.cmd("a1 NOTIFY SET (PERSONAL (SubscriptionChange))").ok()
	u := ts.user("alice")
	// net.Pipe has no buffer: the session blocks writing the first LIST
	// until the client reads, while the changes keep coming.
	for i := 0; i < 3*1024; i++ {
		if err := u.SetSubscribed(context.Background(), "INBOX", i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; ; i++ {
		l := a.line()
		if strings.HasPrefix(l, "* OK [NOTIFICATIONOVERFLOW]") {
			break
		}
		if !strings.HasPrefix(l, "* LIST ") || i > 3*1024 {
			t.Fatalf("line %d: %q", i, l)
		}
	}
	if err := u.SetSubscribed(context.Background(), "INBOX", true); err != nil {
		t.Fatal(err)
	}
	a.cmd("a3 NOOP").ok().equal()
}

// TestNotifyFetchAttributes: RFC 5465 section 3's example event group
// for the selected mailbox, written by the ABNF (events in parentheses):
// a new message comes with its UID and some header fields.
func TestNotifyFetchAttributes(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		a := ts.login()
		a.cmd("a1 SELECT INBOX").ok()
		a.cmd("a2 notify set (selected (MessageNew (uid body.peek[header.fields (from to subject)]) messageexpunge)) " +
			"(subtree Lists (MessageNew MessageExpunge))").ok()
		ts.appendMsg("alice", "INBOX", testMsg)
		a.expect("* 1 EXISTS")
		a.expect("* 1 RECENT")
		a.expect("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (FROM TO SUBJECT)] {36}\r\nFrom: a@example.com\r\nSubject: hi\r\n\r\n)")
		a.cmd(`a3 FETCH 1 FLAGS`).ok().equal(`* 1 FETCH (FLAGS (\Recent))`) // .PEEK: not \Seen
	})
}

// TestNotifyFilters: only the mailboxes a filter names are reported:
// SUBSCRIBED follows subscriptions as they change, MAILBOXES is exact,
// SUBTREE takes the children; events not asked for are not reported.
func TestNotifyFilters(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		a, b := ts.login(), ts.login()
		for _, m := range []string{"Sub", "Plain", "Exact", "Exact/Child", "Tree", "Tree/Child"} {
			b.cmd("b CREATE " + m).ok()
		}
		b.cmd("b SUBSCRIBE Sub").ok()
		a.cmd("a1 NOTIFY SET (SUBSCRIBED (MessageNew MessageExpunge)) (MAILBOXES Exact (MessageNew MessageExpunge)) " +
			"(SUBTREE Tree (MessageNew MessageExpunge MailboxName))").ok()
		for _, m := range []string{"Plain", "Exact/Child", "Sub", "Exact", "Tree/Child"} {
			ts.appendMsg("alice", m, testMsg)
		}
		a.expect("* STATUS Sub (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")
		a.expect("* STATUS Exact (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")
		a.expect("* STATUS Tree/Child (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")
		b.cmd("b CREATE Plain/New").ok() // MailboxName not asked for there
		b.cmd("b CREATE Tree/New").ok()  // but here
		a.expect(`* LIST () "/" Tree/New`)
		b.cmd("b SUBSCRIBE Plain").ok() // SubscriptionChange not asked for
		ts.appendMsg("alice", "Plain", testMsg)
		a.expect("* STATUS Plain (MESSAGES 2 UIDNEXT 3 UIDVALIDITY ")
		a.cmd("a2 NOOP").ok().equal()
	})
}

func FuzzNotifyParse(f *testing.F) {
	for _, s := range []string{
		"", " STATUS", " (SELECTED (MessageNew (UID FLAGS) MessageExpunge FlagChange))",
		" (SUBTREE (Lists \"a b\" {3+}\r\nabc) (MessageNew MessageExpunge)) (INBOXES NONE)",
		" STATUS (MAILBOXES Sent (MailboxName SubscriptionChange AnnotationChange))",
		" (selected (MessageNew (uid body.peek[header.fields (from to subject)]) messageexpunge))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		set, err := parseNotifySet(testDecoder(s + "\r\n"))
		if err != nil {
			return
		}
		if set.fetch != nil && set.selected == nil {
			t.Fatalf("%q: fetch attributes outside SELECTED", s)
		}
		for _, g := range set.groups {
			if g.filter == filterSelected || g.filter == filterSelectedDelayed {
				t.Fatalf("%q: selected filter among the others", s)
			}
		}
		_ = set.check()
	})
}

// TestNotifyTimeouts: notifications do not count as client activity (the
// inactivity timer runs from the last command), and a session waiting
// with NOTIFY on ends at shutdown.
func TestNotifyTimeouts(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t)
		c := ts.login()
		c.cmd("a NOTIFY SET (PERSONAL (MailboxName))").ok()
		time.Sleep(DefaultAutologout / 2)
		if err := ts.user("alice").Create(context.Background(), "New", nil); err != nil {
			t.Fatal(err)
		}
		c.expect(`* LIST () "/" New`)
		time.Sleep(DefaultAutologout/2 + time.Second)
		c.expect("* BYE Disconnected for inactivity.")
		c.expectClosed()
	})
	ts := newTestServer(t)
	c := ts.login()
	c.cmd("a NOTIFY SET (PERSONAL (MailboxName))").ok()
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	c.expect("* BYE Server shutting down.")
	c.expectClosed()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
