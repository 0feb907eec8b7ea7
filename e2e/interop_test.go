package e2e

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestInteropDovecotStoreToRoost: Dovecot writes a store through IMAP (APPENDs with flags,
// keywords and dates, expunges, copies, moves, subfolders, subscriptions); roost then serves the
// same Maildir from the same config with every UID, UIDVALIDITY, UIDNEXT, flag, keyword and
// internal date intact. roost then changes the store and Dovecot must see exactly that.
func TestInteropDovecotStoreToRoost(t *testing.T) {
	t.Parallel()
	roostCase(t, func(t testing.TB) { interopRoundTrip(t, "dovecot", "roost") })
}

// TestInteropRoostStoreToDovecot is the reverse: roost writes, Dovecot reads and writes, roost
// reads again.
func TestInteropRoostStoreToDovecot(t *testing.T) {
	t.Parallel()
	roostCase(t, func(t testing.TB) { interopRoundTrip(t, "roost", "dovecot") })
}

// TestInteropDovecotRestart runs the same round trip with Dovecot on both sides; it checks the
// workload and the snapshot themselves.
func TestInteropDovecotRestart(t *testing.T) {
	t.Parallel()
	interopRoundTrip(t, "dovecot", "dovecot")
}

func interopRoundTrip(t testing.TB, first, second string) {
	need(t, "dovecot")
	if first == "roost" || second == "roost" {
		needRoost(t)
	}
	env := newMailEnv(t)

	srv := startServer(t, env, first)
	c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
	populate(t, c)
	want := storeSnapshot(t, c)
	c.logout()
	srv.stop(t)

	srv = startServer(t, env, second)
	c = dialIMAP(t, srv.Addr(), "alice", "alicepw")
	got := storeSnapshot(t, c)
	compareStores(t, fmt.Sprintf("store written by %s, read by %s", first, second), want, got)
	mutate(t, c)
	want = storeSnapshot(t, c)
	c.logout()
	srv.stop(t)

	srv = startServer(t, env, first)
	c = dialIMAP(t, srv.Addr(), "alice", "alicepw")
	got = storeSnapshot(t, c)
	compareStores(t, fmt.Sprintf("store changed by %s, read by %s", second, first), want, got)
	c.logout()
}

// testMsg builds a small message.
func testMsg(subject, body string) string {
	return fmt.Sprintf("From: Tester <tester@example.org>\nTo: alice@example.org\nSubject: %s\n"+
		"Date: Wed, 01 Jul 2020 12:00:00 +0000\nMessage-ID: <%s@example.org>\n\n%s\n",
		subject, strings.ReplaceAll(subject, " ", "."), body)
}

// populate is the first server's workload.
func populate(t testing.TB, c *imapClient) {
	for _, box := range []string{"Work", "Work/Reports", "Archive/2020", "&AMk-t&AOk-", "Empty"} {
		c.must("CREATE %s", quote(box))
	}
	c.must("SUBSCRIBE Work")
	c.must("SUBSCRIBE Work/Reports")
	inbox := []struct{ flags, date string }{
		{`\Seen`, "01-Jul-2020 12:00:00 +0000"},
		{`\Flagged \Answered`, "02-Jul-2020 13:14:15 +0200"},
		{`$Label1 Custom`, "03-Jul-2020 01:02:03 -0500"},
		{`\Draft $Forwarded`, "04-Jul-2020 23:59:59 +0000"},
		{``, "05-Jul-2020 00:00:00 +0000"},
		{`\Seen $Label1 NonJunk`, ""},
		{`\Seen \Deleted`, "07-Jul-2020 07:07:07 +0000"},
		{`Custom Other`, "08-Jul-2020 08:08:08 +0000"},
	}
	for i, m := range inbox {
		c.mustAppend("INBOX", m.flags, m.date, testMsg(fmt.Sprintf("inbox %d", i+1), strings.Repeat("x", i*37)))
	}
	for i := range 3 {
		c.mustAppend("Work/Reports", "Report"+fmt.Sprint(i), "", testMsg(fmt.Sprintf("report %d", i+1), "numbers"))
	}
	c.mustAppend("&AMk-t&AOk-", `\Seen`, "14-Jul-2020 10:00:00 +0000", testMsg("summer", "sun"))
	c.must("SELECT INBOX")
	c.must(`STORE 3 +FLAGS (\Deleted)`)
	c.must("EXPUNGE") // expunges 3 and 7
	c.must(`STORE 4 +FLAGS (Keyword2 \Seen)`)
	c.must(`STORE 1 -FLAGS (\Seen)`)
	c.must("COPY 1:2 Archive/2020")
	c.must("MOVE 3 Work")
	c.must("SELECT Archive/2020")
	c.must(`STORE 1 +FLAGS (\Deleted)`)
	c.must("EXPUNGE")
	c.must("UNSELECT")
}

// mutate is the second server's workload on the first one's store.
func mutate(t testing.TB, c *imapClient) {
	c.must("SELECT INBOX")
	c.must(`STORE 1 +FLAGS (\Seen NewKeyword)`)
	c.must(`STORE 2 FLAGS (\Answered)`)
	c.must(`UID STORE 8 +FLAGS (\Deleted)`)
	c.must("UID EXPUNGE 8")
	c.mustAppend("INBOX", `NewKeyword \Flagged`, "20-Aug-2020 20:20:20 +0000", testMsg("from the second server", "hi"))
	c.mustAppend("INBOX", "", "", testMsg("another", "hey"))
	c.must("COPY 1 Work/Reports")
	c.must("UNSELECT")
	c.must("CREATE New/Folder")
	c.mustAppend("New/Folder", `\Seen $Label1`, "21-Aug-2020 21:21:21 +0000", testMsg("in new folder", "x"))
	c.must("RENAME Work/Reports Reports")
	c.must("SUBSCRIBE Reports")
	c.must("DELETE Empty")
	c.must("UNSUBSCRIBE Work")
}

// store is everything observable about a user's mail through IMAP.
type store struct {
	Boxes      map[string]boxState
	Subscribed []string
}

func storeSnapshot(t testing.TB, c *imapClient) store {
	t.Helper()
	s := store{Boxes: map[string]boxState{}}
	for name, selectable := range c.mailboxes() {
		if selectable {
			s.Boxes[name] = c.snapshot(name)
		}
	}
	r := c.must(`LSUB "" "*"`)
	for _, l := range r.untagged {
		if m := listLine.FindStringSubmatch(strings.Replace(l, "* LSUB", "* LIST", 1)); m != nil {
			s.Subscribed = append(s.Subscribed, unquote(m[2]))
		}
	}
	sort.Strings(s.Subscribed)
	return s
}

func compareStores(t testing.TB, what string, want, got store) {
	t.Helper()
	if reflect.DeepEqual(want, got) {
		return
	}
	var diffs []string
	if !reflect.DeepEqual(want.Subscribed, got.Subscribed) {
		diffs = append(diffs, fmt.Sprintf("subscriptions: want %q, got %q", want.Subscribed, got.Subscribed))
	}
	for name, w := range want.Boxes {
		g, ok := got.Boxes[name]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("mailbox %q missing", name))
		case w.UIDValidity != g.UIDValidity || w.UIDNext != g.UIDNext:
			diffs = append(diffs, fmt.Sprintf("mailbox %q: UIDVALIDITY/UIDNEXT want %d/%d, got %d/%d",
				name, w.UIDValidity, w.UIDNext, g.UIDValidity, g.UIDNext))
		}
		if ok && !reflect.DeepEqual(w.Msgs, g.Msgs) {
			diffs = append(diffs, fmt.Sprintf("mailbox %q messages:\n  want %+v\n  got  %+v", name, w.Msgs, g.Msgs))
		}
	}
	for name := range got.Boxes {
		if _, ok := want.Boxes[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("unexpected mailbox %q", name))
		}
	}
	t.Errorf("%s:\n%s", what, strings.Join(diffs, "\n"))
}
