package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Two-way synchronisation between two accounts of one server (alice and bob) by real sync
// tools: interimap (QRESYNC-based) and mbsync (IMAP to IMAP). Both run the same scenario against
// Dovecot and roost: mail, flags and folders created on one side reach the other, changes on
// both sides between two runs merge, and expunges made while the other side was offline are
// propagated.

// accountState maps mailbox -> subject -> sorted flags (no \Recent).
type accountState map[string]map[string]string

func (s accountState) String() string {
	var boxes []string
	for b := range s {
		boxes = append(boxes, b)
	}
	sort.Strings(boxes)
	var out strings.Builder
	for _, b := range boxes {
		var subs []string
		for subj, fl := range s[b] {
			subs = append(subs, subj+"="+fl)
		}
		sort.Strings(subs)
		fmt.Fprintf(&out, "%s{%s} ", b, strings.Join(subs, ", "))
	}
	return strings.TrimSpace(out.String())
}

// account reads every selectable mailbox of c's user.
func account(c *imapClient) accountState {
	c.t.Helper()
	st := accountState{}
	for box, selectable := range c.mailboxes() {
		if !selectable {
			continue
		}
		msgs := map[string]string{}
		for _, m := range c.snapshot(box).Msgs {
			msgs[m.Subject] = m.Flags
		}
		st[box] = msgs
	}
	return st
}

// systemFlags drops keywords from every flag list of s.
func (s accountState) systemFlags() accountState {
	out := accountState{}
	for b, msgs := range s {
		out[b] = map[string]string{}
		for subj, fl := range msgs {
			var keep []string
			for _, f := range strings.Fields(fl) {
				if strings.HasPrefix(f, `\`) {
					keep = append(keep, f)
				}
			}
			out[b][subj] = strings.Join(keep, " ")
		}
	}
	return out
}

// expectAccount checks c's account holds exactly want (only system flags compared when
// keywords is false).
func expectAccount(t testing.TB, who string, c *imapClient, want accountState, keywords bool) {
	t.Helper()
	got := account(c)
	if !keywords {
		got, want = got.systemFlags(), want.systemFlags()
	}
	if got.String() != want.String() {
		t.Errorf("%s:\n got  %s\n want %s", who, got, want)
	}
}

// expungeSubject marks the message with subject in box \Deleted and expunges it.
func expungeSubject(t testing.TB, c *imapClient, box, subject string) {
	t.Helper()
	c.must("SELECT %s", quote(box))
	r := c.must("UID SEARCH SUBJECT %s", quote(subject))
	uids := strings.TrimSpace(strings.TrimPrefix(strings.Join(r.untagged, ""), "* SEARCH"))
	if uids == "" || strings.Contains(uids, " ") {
		t.Fatalf("%s: SEARCH SUBJECT %q found %q, want one message", box, subject, uids)
	}
	c.must(`UID STORE %s +FLAGS.SILENT (\Deleted)`, uids)
	c.must("UID EXPUNGE %s", uids)
	c.must("UNSELECT")
}

// storeSubject changes the flags of the message with subject in box.
func storeSubject(t testing.TB, c *imapClient, box, subject, change string) {
	t.Helper()
	c.must("SELECT %s", quote(box))
	r := c.must("UID SEARCH SUBJECT %s", quote(subject))
	uids := strings.TrimSpace(strings.TrimPrefix(strings.Join(r.untagged, ""), "* SEARCH"))
	if uids == "" || strings.Contains(uids, " ") {
		t.Fatalf("%s: SEARCH SUBJECT %q found %q, want one message", box, subject, uids)
	}
	c.must("UID STORE %s %s", uids, change)
	c.must("UNSELECT")
}

// syncScenario drives alice's and bob's accounts through three sync rounds. keywords says
// whether the tool synchronises keywords (mbsync does not). Sent and Trash are created by the
// test configuration (auto = create).
func syncScenario(t testing.TB, srv *server, keywords bool, sync func(round string)) {
	a := dialIMAP(t, srv.Addr(), "alice", "alicepw")
	b := dialIMAP(t, srv.Addr(), "bob", "bobpw")
	a.mustAppend("INBOX", `\Seen`, "", testMsg("s1", "1"))
	a.mustAppend("INBOX", "", "", testMsg("s2", "2"))
	a.mustAppend("INBOX", `\Flagged`, "", testMsg("s3", "3"))
	a.mustAppend("INBOX", "", "", testMsg("s4", "4"))
	a.must("CREATE Work")
	a.mustAppend("Work", `\Answered $Label1`, "", testMsg("w1", "w"))
	b.mustAppend("INBOX", `\Draft`, "", testMsg("b1", "b"))

	sync("1 (initial)")
	want := accountState{
		"Sent": {}, "Trash": {},
		"INBOX": {"s1": `\Seen`, "s2": "", "s3": `\Flagged`, "s4": "", "b1": `\Draft`},
		"Work":  {"w1": `$Label1 \Answered`},
	}
	expectAccount(t, srv.kind+" alice after round 1", a, want, keywords)
	expectAccount(t, srv.kind+" bob after round 1", b, want, keywords)

	// Changes on both sides between two runs.
	storeSubject(t, a, "INBOX", "s2", `+FLAGS (\Seen)`)
	storeSubject(t, b, "INBOX", "s4", `+FLAGS (\Flagged)`)
	storeSubject(t, b, "Work", "w1", `-FLAGS ($Label1)`)
	expungeSubject(t, b, "INBOX", "s1")
	a.mustAppend("INBOX", "", "", testMsg("s5", "5"))
	b.mustAppend("Work", `\Seen`, "", testMsg("w2", "w2"))
	b.must("CREATE Archive")
	b.mustAppend("Archive", "", "", testMsg("a1", "a"))
	sync("2 (both sides changed)")
	want = accountState{
		"Sent": {}, "Trash": {},
		"INBOX":   {"s2": `\Seen`, "s3": `\Flagged`, "s4": `\Flagged`, "s5": "", "b1": `\Draft`},
		"Work":    {"w1": `\Answered`, "w2": `\Seen`},
		"Archive": {"a1": ""},
	}
	expectAccount(t, srv.kind+" alice after round 2", a, want, keywords)
	expectAccount(t, srv.kind+" bob after round 2", b, want, keywords)

	// Bob expunges while alice's side is not synchronised; alice changes other messages.
	expungeSubject(t, b, "INBOX", "s2")
	expungeSubject(t, b, "INBOX", "s3")
	expungeSubject(t, b, "Work", "w2")
	storeSubject(t, a, "INBOX", "s4", `+FLAGS (\Answered)`)
	storeSubject(t, a, "Archive", "a1", `+FLAGS (\Seen)`)
	a.mustAppend("Work", "", "", testMsg("w3", "w3"))
	sync("3 (offline expunges)")
	want = accountState{
		"Sent": {}, "Trash": {},
		"INBOX":   {"s4": `\Answered \Flagged`, "s5": "", "b1": `\Draft`},
		"Work":    {"w1": `\Answered`, "w3": ""},
		"Archive": {"a1": `\Seen`},
	}
	expectAccount(t, srv.kind+" alice after round 3", a, want, keywords)
	expectAccount(t, srv.kind+" bob after round 3", b, want, keywords)
	a.logout()
	b.logout()
}

// TestClientInterimap synchronises alice (local) and bob (remote) with interimap, which needs
// QRESYNC, LIST-EXTENDED and (on the remote side, by default) COMPRESS=DEFLATE.
func TestClientInterimap(t *testing.T) {
	t.Parallel()
	interimap := need(t, "interimap")
	forEachServer(t, func(t testing.TB, env *mailEnv, srv *server) {
		dir := t.TempDir()
		conf := filepath.Join(dir, "config")
		side := func(name, user, pass string) string {
			return fmt.Sprintf("[%s]\ntype = imap\nhost = 127.0.0.1\nport = %d\nSTARTTLS = NO\nusername = %s\npassword = %s\n",
				name, env.Port, user, pass)
		}
		text := fmt.Sprintf("database = %s\n\n%s\n%s", filepath.Join(dir, "interimap.db"),
			side("local", "alice", "alicepw"), side("remote", "bob", "bobpw"))
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		syncScenario(t, srv, true, func(round string) {
			t.Helper()
			out, err := runClient(t, []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}, interimap, "--config="+conf)
			if err != nil {
				t.Fatalf("interimap round %s against %s: %v\n%s", round, srv.kind, err, out)
			}
		})
	})
}

// TestClientMbsyncIMAP synchronises alice (near) and bob (far) with mbsync, IMAP to IMAP.
func TestClientMbsyncIMAP(t *testing.T) {
	t.Parallel()
	mbsync := need(t, "mbsync")
	forEachServer(t, func(t testing.TB, env *mailEnv, srv *server) {
		dir := t.TempDir()
		store := func(name, user, pass string) string {
			return fmt.Sprintf("IMAPAccount %[1]s\nHost 127.0.0.1\nPort %[2]d\nUser %[3]s\nPass %[4]s\n"+
				"SSLType None\nAuthMechs LOGIN\n\nIMAPStore %[1]s-store\nAccount %[1]s\n\n", name, env.Port, user, pass)
		}
		rc := store("near", "alice", "alicepw") + store("far", "bob", "bobpw") + fmt.Sprintf(
			"Channel both\nFar :far-store:\nNear :near-store:\nPatterns *\nCreate Both\nExpunge Both\n"+
				"SyncState %s/\n", dir)
		path := filepath.Join(dir, "mbsyncrc")
		if err := os.WriteFile(path, []byte(rc), 0o600); err != nil {
			t.Fatal(err)
		}
		syncScenario(t, srv, false, func(round string) {
			t.Helper()
			out, err := runClient(t, []string{"HOME=" + dir, "PATH=/usr/bin:/bin"}, mbsync, "-V", "-c", path, "-a")
			if err != nil {
				t.Fatalf("mbsync round %s against %s: %v\n%s", round, srv.kind, err, out)
			}
		})
	})
}
