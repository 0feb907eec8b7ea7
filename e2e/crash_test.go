package e2e

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCrashSafety SIGKILLs the server while a client runs APPEND, STORE, EXPUNGE and COPY loops,
// restarts it, and checks that every acknowledged message, flag change and expunge is as
// acknowledged and that no UID is ever given to a second message. The "noindex" variants also
// delete the server's own index files (roost.index*, or Dovecot's dovecot.index*) before the
// restart, so the state must be rebuilt from the Maildir. Dovecot runs the same test, which
// checks the test itself.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	for _, kind := range serverKinds {
		for _, dropIndex := range []bool{false, true} {
			name := kind
			if dropIndex {
				name += "/noindex"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				if kind == "roost" {
					roostCase(t, func(t testing.TB) { crashRounds(t, kind, dropIndex) })
					return
				}
				crashRounds(t, kind, dropIndex)
			})
		}
	}
}

const (
	crashRoundsN = 2  // rounds of the four loops
	crashMaxOps  = 60 // upper bound of commands per loop
	crashSeed    = 40 // messages in INBOX before the first round
)

// crashOp is one loop: it issues commands until the connection dies (or crashMaxOps), calling
// acked after each acknowledged one.
type crashOp struct {
	name string
	run  func(t testing.TB, c *imapClient, l *ledger, round int, acked func())
}

func crashRounds(t testing.TB, kind string, dropIndex bool) {
	env := newMailEnv(t)
	srv := startServer(t, env, kind)
	c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
	c.must("CREATE Target")
	l := newLedger()
	for i := range crashSeed {
		subject := fmt.Sprintf("seed-%d", i)
		l.add(t, "INBOX", c.mustAppend("INBOX", "", "", crashMsg(subject)), subject, "")
	}
	c.logout()
	ops := []crashOp{
		{"APPEND", crashAppend},
		{"STORE", crashStore},
		{"EXPUNGE", crashExpunge},
		{"COPY", crashCopy},
	}
	for round := range crashRoundsN {
		for i, op := range ops {
			killAfter := 3 + (round*len(ops)+i)%5*3 // vary the kill point: 3..15 acknowledgements
			c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
			n := 0
			op.run(t, c, l, round, func() {
				n++
				if n == killAfter {
					go srv.kill() // SIGKILL while the loop goes on sending commands
				}
			})
			srv.kill()
			c.rc.close()
			if n < killAfter {
				t.Fatalf("%s round %d: only %d of %d commands acknowledged before the loop ended",
					op.name, round, n, killAfter)
			}
			if dropIndex {
				removeIndexFiles(t, env, kind)
			}
			srv = startServer(t, env, kind)
			c = dialIMAP(t, srv.Addr(), "alice", "alicepw")
			t.Logf("%s round %d: killed after %d acknowledged; in flight: %s", op.name, round, n, l.inFlight())
			l.verify(t, c, fmt.Sprintf("after SIGKILL during %s loop (round %d, %d acknowledged)", op.name, round, n))
			c.logout()
		}
	}
	srv.stop(t)
}

// removeIndexFiles deletes the server's own index files under the user's Maildir.
func removeIndexFiles(t testing.TB, env *mailEnv, kind string) {
	t.Helper()
	prefix := "roost.index"
	if kind == "dovecot" {
		prefix = "dovecot.index"
	}
	n := 0
	err := filepath.WalkDir(env.Maildir("alice"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), prefix) {
			n++
			return os.Remove(p)
		}
		return err
	})
	if err != nil {
		t.Fatalf("remove index files: %v", err)
	}
	t.Logf("removed %d %s* files", n, prefix)
}

// crashMsg is a message whose Subject identifies it.
func crashMsg(subject string) string { return testMsg(subject, "crash test "+subject) }

func crashAppend(t testing.TB, c *imapClient, l *ledger, round int, acked func()) {
	flagSets := []string{"", `\Seen`, `$K1`, `\Flagged $K2`}
	for i := range crashMaxOps {
		subject := fmt.Sprintf("r%d-append-%d", round, i)
		flags := flagSets[i%len(flagSets)]
		l.doubt("INBOX", subject)
		uid, err := c.appendMsg("INBOX", flags, "", crashMsg(subject))
		if err != nil {
			return
		}
		l.add(t, "INBOX", uid, subject, normFlags(flags))
		acked()
	}
}

func crashStore(t testing.TB, c *imapClient, l *ledger, round int, acked func()) {
	c.must("SELECT INBOX")
	flagSets := []string{`\Seen`, `\Answered $K3`, `\Flagged \Seen`, ``, `$K1 \Draft`}
	uids := l.uids("INBOX")
	for i := range crashMaxOps {
		uid := uids[i%len(uids)]
		flags := flagSets[(i+round)%len(flagSets)]
		l.doubtFlags("INBOX", uid, normFlags(flags))
		r, err := c.do("UID STORE %d FLAGS.SILENT (%s)", uid, flags)
		if err != nil || r.status != "OK" {
			return
		}
		l.setFlags("INBOX", uid, normFlags(flags))
		acked()
	}
}

func crashExpunge(t testing.TB, c *imapClient, l *ledger, round int, acked func()) {
	c.must("SELECT INBOX")
	for i, uid := range l.uids("INBOX") {
		if i%2 == 1 {
			continue // keep every other message for the COPY loop and later rounds
		}
		l.doubtExpunge("INBOX", uid)
		r, err := c.do(`UID STORE %d +FLAGS.SILENT (\Deleted)`, uid)
		if err != nil || r.status != "OK" {
			return
		}
		r, err = c.do("UID EXPUNGE %d", uid)
		if err != nil || r.status != "OK" {
			return
		}
		l.expunge("INBOX", uid)
		acked()
	}
}

func crashCopy(t testing.TB, c *imapClient, l *ledger, round int, acked func()) {
	c.must("SELECT INBOX")
	uids := l.uids("INBOX")
	for i := range crashMaxOps {
		uid := uids[i%len(uids)]
		src := l.boxes["INBOX"][uid]
		l.doubt("Target", src.subject)
		r, err := c.do("UID COPY %d Target", uid)
		if err != nil || r.status != "OK" {
			return
		}
		m := copyUID.FindStringSubmatch(r.line)
		if m == nil || m[1] != fmt.Sprint(uid) {
			t.Fatalf("UID COPY %d: no or wrong COPYUID: %s", uid, r.line)
		}
		var dst uint32
		fmt.Sscan(m[2], &dst)
		l.add(t, "Target", dst, src.subject, src.flags)
		acked()
	}
}

// ledger is what the server acknowledged, plus what is in doubt because the server died
// before it answered.
type ledger struct {
	boxes    map[string]map[uint32]ledgerMsg // acknowledged live messages
	gone     map[string]map[uint32]bool      // acknowledged expunges
	everUsed map[string]map[uint32]string    // every UID ever seen -> subject
	// in doubt since the last verify:
	doubtSubjects map[string]map[string]bool // box -> subjects maybe appended/copied
	doubtFlag     map[string]map[uint32]string
	doubtGone     map[string]map[uint32]bool
}

type ledgerMsg struct {
	subject, flags string
}

func newLedger() *ledger {
	l := &ledger{
		boxes: map[string]map[uint32]ledgerMsg{}, gone: map[string]map[uint32]bool{},
		everUsed: map[string]map[uint32]string{},
	}
	l.resetDoubt()
	for _, b := range []string{"INBOX", "Target"} {
		l.boxes[b], l.gone[b], l.everUsed[b] = map[uint32]ledgerMsg{}, map[uint32]bool{}, map[uint32]string{}
	}
	return l
}

func (l *ledger) resetDoubt() {
	l.doubtSubjects = map[string]map[string]bool{"INBOX": {}, "Target": {}}
	l.doubtFlag = map[string]map[uint32]string{"INBOX": {}, "Target": {}}
	l.doubtGone = map[string]map[uint32]bool{"INBOX": {}, "Target": {}}
}

func (l *ledger) doubt(box, subject string)                   { l.doubtSubjects[box][subject] = true }
func (l *ledger) doubtFlags(box string, uid uint32, f string) { l.doubtFlag[box][uid] = f }
func (l *ledger) doubtExpunge(box string, uid uint32)         { l.doubtGone[box][uid] = true }

// inFlight describes what was in doubt when the server died.
func (l *ledger) inFlight() string {
	var parts []string
	for _, box := range []string{"INBOX", "Target"} {
		for subj := range l.doubtSubjects[box] {
			parts = append(parts, fmt.Sprintf("%s %q", box, subj))
		}
		for uid, f := range l.doubtFlag[box] {
			parts = append(parts, fmt.Sprintf("%s UID %d FLAGS (%s)", box, uid, f))
		}
		for uid := range l.doubtGone[box] {
			parts = append(parts, fmt.Sprintf("%s UID %d expunge", box, uid))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (l *ledger) add(t testing.TB, box string, uid uint32, subject, flags string) {
	t.Helper()
	if uid == 0 {
		t.Fatalf("%s: acknowledged without a UID (APPENDUID/COPYUID missing)", box)
	}
	if prev, ok := l.everUsed[box][uid]; ok && prev != subject {
		t.Errorf("%s: UID %d reused: was %q, now acknowledged for %q", box, uid, prev, subject)
	}
	l.everUsed[box][uid] = subject
	l.boxes[box][uid] = ledgerMsg{subject, flags}
	delete(l.doubtSubjects[box], subject)
}

func (l *ledger) setFlags(box string, uid uint32, flags string) {
	m := l.boxes[box][uid]
	m.flags = flags
	l.boxes[box][uid] = m
	delete(l.doubtFlag[box], uid)
}

func (l *ledger) expunge(box string, uid uint32) {
	delete(l.boxes[box], uid)
	l.gone[box][uid] = true
	delete(l.doubtGone[box], uid)
}

func (l *ledger) uids(box string) []uint32 {
	var out []uint32
	for uid := range l.boxes[box] {
		out = append(out, uid)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// verify compares the restarted server's state with the ledger, then adopts what the server
// decided about the operations that were in doubt.
func (l *ledger) verify(t testing.TB, c *imapClient, when string) {
	t.Helper()
	for _, box := range []string{"INBOX", "Target"} {
		st := c.snapshot(box)
		seen := map[uint32]msgState{}
		var maxUID uint32
		for _, m := range st.Msgs {
			seen[m.UID] = m
			maxUID = max(maxUID, m.UID)
		}
		for uid, want := range l.boxes[box] {
			got, ok := seen[uid]
			switch {
			case !ok && l.doubtGone[box][uid]:
				l.expunge(box, uid) // the in-doubt expunge happened
			case !ok:
				t.Errorf("%s: %s UID %d (%q) was acknowledged and is missing", when, box, uid, want.subject)
				delete(l.boxes[box], uid) // report it once
			case got.Subject != want.subject:
				t.Errorf("%s: %s UID %d is %q, acknowledged as %q", when, box, uid, got.Subject, want.subject)
			default:
				l.checkFlags(t, when, box, uid, got.Flags)
			}
		}
		for uid, got := range seen {
			if l.gone[box][uid] {
				t.Errorf("%s: %s UID %d (%q) was expunged (acknowledged) and is back", when, box, uid, got.Subject)
				continue
			}
			if _, known := l.boxes[box][uid]; known {
				continue
			}
			if prev, used := l.everUsed[box][uid]; used && prev != got.Subject {
				t.Errorf("%s: %s UID %d reused: was %q, now %q", when, box, uid, prev, got.Subject)
			}
			if !l.doubtSubjects[box][got.Subject] {
				t.Errorf("%s: %s UID %d (%q) was never acknowledged nor in flight", when, box, uid, got.Subject)
				continue
			}
			delete(l.doubtSubjects[box], got.Subject) // the in-flight APPEND/COPY happened
			l.everUsed[box][uid] = got.Subject
			l.boxes[box][uid] = ledgerMsg{got.Subject, got.Flags}
		}
		for uid := range l.everUsed[box] {
			maxUID = max(maxUID, uid)
		}
		if st.UIDNext <= maxUID {
			t.Errorf("%s: %s UIDNEXT %d is not above UID %d already used", when, box, st.UIDNext, maxUID)
		}
	}
	l.resetDoubt()
}

func (l *ledger) checkFlags(t testing.TB, when, box string, uid uint32, got string) {
	t.Helper()
	want := l.boxes[box][uid].flags
	ok := got == want
	if alt, doubt := l.doubtFlag[box][uid]; doubt && got == alt {
		ok = true // the in-doubt STORE happened
	}
	if l.doubtGone[box][uid] && got == normFlags(want+` \Deleted`) {
		ok = true // the in-doubt expunge's STORE \Deleted happened, its EXPUNGE did not
	}
	if !ok {
		t.Errorf("%s: %s UID %d flags are (%s), acknowledged as (%s)", when, box, uid, got, want)
		return
	}
	l.setFlags(box, uid, got)
}
