package e2e

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"roost/internal/sqldb/sqldbtest"
)

// Fault tests of delivery (issue 3, "what must be shown"): the disk full, the userdb
// unreachable, the server killed mid-DATA. In every case the sender is told to retry or the
// mail is stored whole, never both and never neither; every stored file is checked byte for
// byte. Each test runs against Dovecot too, which checks the test itself.

// faultMsg is message i of a test: a unique Subject and a body of about size bytes.
func faultMsg(tag string, i, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender@example.org\r\nSubject: %s-%d\r\nMessage-ID: <%s-%d@example.org>\r\n\r\n", tag, i, tag, i)
	for n := 0; b.Len() < size; n++ {
		fmt.Fprintf(&b, "%s %d line %06d abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789\r\n", tag, i, n)
	}
	return b.String()
}

// storedMessages reads every file of user's INBOX (new/ and cur/) and returns, by Subject,
// how many whole copies it holds. A file that is not exactly the trace headers followed by
// one of sent's messages (line ends as stored: LF) fails the test: a partial or damaged
// message is visible.
func storedMessages(t testing.TB, e *mailEnv, user string, sent map[string]string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, sub := range []string{"new", "cur"} {
		dir := filepath.Join(e.Maildir(user), sub)
		ents, err := os.ReadDir(dir)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, ent := range ents {
			b, err := os.ReadFile(filepath.Join(dir, ent.Name()))
			if err != nil {
				t.Fatal(err)
			}
			subject, ok := wholeMessage(string(b), sent)
			if !ok {
				t.Errorf("%s/%s is not a whole message (%d bytes): %.200q...", sub, ent.Name(), len(b), b)
				continue
			}
			out[subject]++
		}
	}
	return out
}

// wholeMessage strips the trace header block LMTP adds and compares the rest with the sent
// message of the same Subject.
func wholeMessage(file string, sent map[string]string) (string, bool) {
	body := stripTrace(file)
	subject := headerValue(body, "Subject")
	want, ok := sent[subject]
	return subject, ok && body == strings.ReplaceAll(want, "\r\n", "\n")
}

var reTraceSession = regexp.MustCompile(` [A-Za-z0-9+/]{22}(:T\d+)?`)

var reTraceBlock = regexp.MustCompile(`^(?:(?:Return-Path|Delivered-To|Received): [^\n]*\n(?:[ \t][^\n]*\n)*)*`)

func stripTrace(s string) string { return reTraceBlock.ReplaceAllString(s, "") }

// lmtpTransaction runs one transaction for rcpt on a fresh connection and returns the reply to the
// message ("" when the connection died first).
func lmtpTransaction(addr, rcpt, msg string) (string, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(nc)
	reply := func() (string, error) {
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return "", err
			}
			if len(l) < 4 || l[3] == ' ' {
				return strings.TrimRight(l, "\r\n"), nil
			}
		}
	}
	if _, err := reply(); err != nil {
		return "", err
	}
	fmt.Fprintf(nc, "LHLO test\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<%s>\r\nDATA\r\n", rcpt)
	var refused string // the first refusal of LHLO, MAIL or RCPT
	for i := 0; i < 4; i++ {
		l, err := reply()
		if err != nil {
			return "", err
		}
		if i < 3 && !strings.HasPrefix(l, "2") && refused == "" {
			refused = l
		}
		if i == 3 && !strings.HasPrefix(l, "354") {
			if refused != "" {
				return refused, nil
			}
			return l, nil
		}
	}
	if _, err := io.WriteString(nc, dotStuff(msg)+".\r\n"); err != nil {
		return "", err
	}
	l, err := reply()
	fmt.Fprintf(nc, "QUIT\r\n")
	return l, err
}

func dotStuff(msg string) string {
	msg = strings.ReplaceAll(msg, "\r\n.", "\r\n..")
	if strings.HasPrefix(msg, ".") {
		msg = "." + msg
	}
	return msg
}

// mountTmpfs mounts a tmpfs of size bytes on dir, owned by the mail user, unmounted at the
// end of the test (after the servers stopped: register it before starting them). It skips
// when mounting is not permitted, and under CI=true fails for any other reason.
func mountTmpfs(t testing.TB, e *mailEnv, dir string, size int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size))
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		t.Skipf("mount -t tmpfs not permitted here: %v", err)
	}
	if err != nil {
		if inCI() {
			t.Fatalf("mount tmpfs on %s: %v", dir, err)
		}
		t.Skipf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	if err := os.Chown(dir, e.UID, e.GID); err != nil {
		t.Fatal(err)
	}
}

// fillTo writes the filler file so that about free bytes stay available on dir's filesystem.
func fillTo(t testing.TB, e *mailEnv, dir string, free int64) {
	t.Helper()
	filler := filepath.Join(dir, "filler")
	os.Remove(filler)
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * int64(st.Bsize)
	if n := avail - free; n > 0 {
		if err := os.WriteFile(filler, make([]byte, n), 0o600); err != nil {
			t.Fatalf("write filler: %v", err)
		}
	}
}

// TestDeliveryDiskFull delivers over LMTP into a Maildir on a 2 MB tmpfs filled up to a few
// pages, in rounds with 1 to 12 pages left, until deliveries fail. Every message answered 250
// is stored whole exactly once; every one answered otherwise must be a temporary failure and
// is not stored. After space is freed, the refused messages are delivered again (the MTA's
// retry) and each is then stored whole once. The LDA on a full disk exits 75 and stores
// nothing.
func TestDeliveryDiskFull(t *testing.T) {
	t.Parallel()
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) { diskFullRounds(t, kind) }
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

func diskFullRounds(t testing.TB, kind string) {
	env := newLMTPEnv(t, withConfig("service auth {\n  unix_listener auth-userdb {\n    mode = 0666\n  }\n}"))
	home := env.Home("alice")
	mountTmpfs(t, env.mailEnv, home, 2<<20)
	startServer(t, env.mailEnv, kind)
	addr := fmt.Sprintf("127.0.0.1:%d", env.LMTPPort)
	sent := map[string]string{}
	acked := map[string]bool{}
	var refused []string
	replies := map[string]int{}
	deliver := func(subject, msg string) string {
		sent[subject] = msg
		reply, err := lmtpTransaction(addr, "alice@example.net", msg)
		if err != nil {
			t.Fatalf("%s: deliver %s: %v", kind, subject, err)
		}
		return reply
	}
	deliver("full-0", faultMsg("full", 0, 100))
	n := 1
	for pages := int64(1); pages <= 12; pages++ {
		fillTo(t, env.mailEnv, home, pages*4096)
		failed := 0
		for failed < 2 && n < 400 {
			subject := fmt.Sprintf("full-%d", n)
			reply := deliver(subject, faultMsg("full", n, 1000+int(n%7)*1500))
			n++
			switch {
			case strings.HasPrefix(reply, "250 "):
				acked[subject] = true
			case strings.HasPrefix(reply, "4"):
				refused = append(refused, subject)
				replies[reTraceSession.ReplaceAllString(reply, "")]++
				failed++
			default:
				t.Errorf("%s: %s on a full disk: %q, want 250 or a temporary failure", kind, subject, reply)
			}
		}
		got := storedMessages(t, env.mailEnv, "alice", sent)
		for s := range sent {
			want := 0
			if acked[s] || s == "full-0" {
				want = 1
			}
			if got[s] != want {
				t.Errorf("%s: %d pages free: %s stored %d times, want %d (acknowledged: %v)", kind, pages, s, got[s], want, acked[s])
			}
		}
	}
	if len(refused) == 0 {
		t.Fatalf("%s: no delivery failed on a full disk", kind)
	}
	if tmp, _ := os.ReadDir(filepath.Join(env.Maildir("alice"), "tmp")); len(tmp) != 0 {
		t.Errorf("%s: %d files left in tmp/ by failed deliveries", kind, len(tmp))
	}
	code, out := ldaRun(t, env, kind, strings.ReplaceAll(faultMsg("lda", 0, 20000), "\r\n", "\n"), "-d", "alice", "-f", "sender@example.org")
	sent["lda-0"] = faultMsg("lda", 0, 20000)
	if code != 75 {
		t.Errorf("%s: LDA on a full disk: exit %d %q, want 75", kind, code, out)
	}
	os.Remove(filepath.Join(home, "filler"))
	for _, s := range refused {
		if reply := deliver(s, sent[s]); !strings.HasPrefix(reply, "250 ") {
			t.Errorf("%s: %s again with space: %q", kind, s, reply)
		}
	}
	got := storedMessages(t, env.mailEnv, "alice", sent)
	for s := range sent {
		if want := map[bool]int{true: 0, false: 1}[s == "lda-0"]; got[s] != want {
			t.Errorf("%s: after the retries %s stored %d times, want %d", kind, s, got[s], want)
		}
	}
	t.Logf("%s: %d messages, %d refused on a full disk and delivered on retry; refusals: %v", kind, len(sent)-1, len(refused), replies)
}

// userdbEnv is an LMTP installation whose userdb is a passwd-file of its own instead of the
// harness's static userdb (the passdb stays), so that the userdb can be made unreadable alone.
func userdbEnv(t testing.TB) (*lmtpEnv, string) {
	t.Helper()
	env := newLMTPEnv(t, withConfig("service auth {\n  unix_listener auth-userdb {\n    mode = 0666\n  }\n}"))
	path := filepath.Join(env.Dir, "userdb")
	var b strings.Builder
	for _, u := range testUsers {
		fmt.Fprintf(&b, "%s::%d:%d::%s::\n", u.name, env.UID, env.GID, env.Home(u.name))
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// roost serves mail as mail_uid when no static userdb names the uid.
	replaceUserdb(t, env.mailEnv, fmt.Sprintf("mail_uid = %d\nmail_gid = %d\nuserdb {\n  driver = passwd-file\n  args = %s\n}\n",
		env.UID, env.GID, path))
	return env, path
}

// rcptProbe asks RCPT for rcpt without sending a message and returns the reply.
func rcptProbe(t testing.TB, addr, rcpt string) string {
	t.Helper()
	c := dialLMTP(t, "tcp", addr)
	c.send("LHLO probe\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<"+rcpt+">\r\n", 3)
	c.nc.Write([]byte("QUIT\r\n"))
	return strings.TrimPrefix(c.tr[len(c.tr)-1], "S: ")
}

// awaitRcpt probes until RCPT for rcpt is answered with prefix: Dovecot's passwd-file looks
// at the file at most once a second, so a change is seen within that second. Any reply
// starting with never (e.g. "550") on the way fails the test.
func awaitRcpt(t testing.TB, addr, rcpt, prefix, never string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := rcptProbe(t, addr, rcpt)
		switch {
		case strings.HasPrefix(r, prefix):
			return
		case never != "" && strings.HasPrefix(r, never):
			t.Fatalf("RCPT %s: %q while the userdb changed", rcpt, r)
		case time.Now().After(deadline):
			t.Fatalf("RCPT %s: still %q, want %q", rcpt, r, prefix)
		}
		time.Sleep(100 * time.Millisecond) // polling an outside process's file cache, not an event of ours
	}
}

var reStaticUserdb = regexp.MustCompile(`userdb \{\n  driver = static\n  args = [^\n]*\n\}\n`)

// replaceUserdb puts block in place of the harness's static userdb.
func replaceUserdb(t testing.TB, e *mailEnv, block string) {
	t.Helper()
	conf, err := os.ReadFile(e.Conf)
	if err != nil {
		t.Fatal(err)
	}
	if !reStaticUserdb.Match(conf) {
		t.Fatal("harness config has no static userdb block to replace")
	}
	if err := os.WriteFile(e.Conf, reStaticUserdb.ReplaceAll(conf, []byte(block)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDeliveryUserdbUnreachable: with the passwd-file userdb unreadable, RCPT is answered 451
// 4.3.0 (never 550 "unknown") and the LDA exits 75 (never 67), on both servers; nothing is
// stored. Readable again, the same delivery succeeds.
func TestDeliveryUserdbUnreachable(t *testing.T) {
	t.Parallel()
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				env, path := userdbEnv(t)
				startServer(t, env.mailEnv, kind)
				addr := fmt.Sprintf("127.0.0.1:%d", env.LMTPPort)
				msg := faultMsg("userdb", 1, 500)
				if r, err := lmtpTransaction(addr, "nobody@example.net", msg); err != nil || !strings.HasPrefix(r, "550 5.1.1") {
					t.Fatalf("%s: unknown user with the userdb readable: %q %v", kind, r, err)
				}
				os.Chmod(path, 0)
				later := time.Now().Add(2 * time.Second) // a new mtime: both servers reread on a changed stamp
				os.Chtimes(path, later, later)
				awaitRcpt(t, addr, "alice@example.net", "451", "550")
				for _, rcpt := range []string{"alice@example.net", "nobody@example.net"} {
					r, err := lmtpTransaction(addr, rcpt, msg)
					if err != nil || !strings.HasPrefix(r, "451 4.3.0") {
						t.Errorf("%s: RCPT %s with the userdb unreadable: %q %v, want 451 4.3.0", kind, rcpt, r, err)
					}
				}
				if code, out := ldaRun(t, env, kind, "Subject: lda\n\nx\n", "-d", "alice", "-f", "s@example.org"); code != 75 {
					t.Errorf("%s: LDA with the userdb unreadable: exit %d %q, want 75", kind, code, out)
				}
				if got := storedMessages(t, env.mailEnv, "alice", map[string]string{"userdb-1": msg}); len(got) != 0 {
					t.Errorf("%s: stored while the userdb was unreadable: %v", kind, got)
				}
				os.Chmod(path, 0o644)
				os.Chtimes(path, later.Add(time.Second), later.Add(time.Second))
				awaitRcpt(t, addr, "alice@example.net", "250", "550")
				if r, err := lmtpTransaction(addr, "alice@example.net", msg); err != nil || !strings.HasPrefix(r, "250 ") {
					t.Errorf("%s: after the userdb is back: %q %v", kind, r, err)
				}
				if got := storedMessages(t, env.mailEnv, "alice", map[string]string{"userdb-1": msg}); got["userdb-1"] != 1 {
					t.Errorf("%s: stored %v, want userdb-1 once", kind, got)
				}
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

// TestDeliverySQLUserdbDown: an SQL userdb (private PostgreSQL) answers, then the server is
// stopped: RCPT is answered 451 4.3.0 and the LDA exits 75, never "unknown". roost only:
// Debian's Dovecot has no SQL driver installed here (dovecot-pgsql).
func TestDeliverySQLUserdbDown(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Postgres(t)
	roostCase(t, func(t testing.TB) {
		env := newLMTPEnv(t)
		sqldbtest.Exec(t, db.PgAdmin(t),
			"CREATE TABLE mailusers (name VARCHAR(64) PRIMARY KEY, home VARCHAR(255))",
			fmt.Sprintf("INSERT INTO mailusers VALUES ('alice', '%s'), ('bob', '%s')", env.Home("alice"), env.Home("bob")))
		args := filepath.Join(env.Dir, "dovecot-sql.conf.ext")
		os.WriteFile(args, []byte(fmt.Sprintf("driver = pgsql\nconnect = %s\nuser_query = SELECT home, %d AS uid, %d AS gid FROM mailusers WHERE name = '%%n'\n",
			db.PgConnect(), env.UID, env.GID)), 0o600)
		replaceUserdb(t, env.mailEnv, fmt.Sprintf("mail_uid = %d\nmail_gid = %d\nuserdb {\n  driver = sql\n  args = %s\n}\n", env.UID, env.GID, args))
		startServer(t, env.mailEnv, "roost")
		addr := fmt.Sprintf("127.0.0.1:%d", env.LMTPPort)
		msg := faultMsg("sql", 1, 500)
		sent := map[string]string{"sql-1": msg}
		if r, err := lmtpTransaction(addr, "alice@example.net", msg); err != nil || !strings.HasPrefix(r, "250 ") {
			t.Fatalf("with the database up: %q %v", r, err)
		}
		if r, _ := lmtpTransaction(addr, "nobody@example.net", msg); !strings.HasPrefix(r, "550 5.1.1") {
			t.Fatalf("unknown user with the database up: %q", r)
		}
		db.Stop()
		for _, rcpt := range []string{"alice@example.net", "nobody@example.net"} {
			if r, err := lmtpTransaction(addr, rcpt, msg); err != nil || !strings.HasPrefix(r, "451 4.3.0") {
				t.Errorf("RCPT %s with the database down: %q %v, want 451 4.3.0", rcpt, r, err)
			}
		}
		if code, out := ldaRun(t, env, "roost", "Subject: lda\n\nx\n", "-d", "alice", "-f", "s@example.org"); code != 75 {
			t.Errorf("LDA with the database down: exit %d %q, want 75", code, out)
		}
		if got := storedMessages(t, env.mailEnv, "alice", sent); got["sql-1"] != 1 || len(got) != 1 {
			t.Errorf("stored %v, want sql-1 once", got)
		}
	})
}

// TestDeliveryKilledMidData SIGKILLs the server while a 4 MB message is in flight (DATA and
// BDAT, at points from the first chunk to just after the final dot), restarts it, and checks
// each transaction: without a 250 no partial message is visible (a whole copy may be, when the
// kill fell between the commit and the reply: the sender then retries, the one duplicate
// every MTA risks); with a 250 the message is stored whole, exactly once.
func TestDeliveryKilledMidData(t *testing.T) {
	t.Parallel()
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) { killRounds(t, kind) }
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

const (
	killMsgSize = 4 << 20
	killChunk   = 64 << 10
)

const (
	killAfterData  = 0
	killAfterReply = -1
	killAtFile     = -2
)

// killCase is one round: the message size, DATA or BDAT, and when to kill: after chunk
// `after` (1-based); for killAfterData right after the last chunk (the end of the data is
// sent, the reply not read); for killAtFile as soon as a new file shows in new/ (the commit
// under way, the reply perhaps not sent); for killAfterReply once the reply was read.
type killCase struct {
	size  int
	bdat  bool
	after int
}

func killCases() []killCase {
	var cs []killCase
	chunks := (killMsgSize + killChunk - 1) / killChunk
	for i := range 8 { // spread over the whole transfer
		cs = append(cs, killCase{killMsgSize, i%2 == 1, 1 + i*chunks/8})
	}
	for i := range 4 { // the end of the data sent: the commit races the kill
		cs = append(cs, killCase{[]int{killMsgSize, 2000}[i/2], i%2 == 1, killAfterData})
	}
	for i := range 4 { // the message file appeared: killed during the commit or the reply
		cs = append(cs, killCase{[]int{killMsgSize, 2000}[i/2], i%2 == 1, killAtFile})
	}
	return append(cs, killCase{killMsgSize, false, killAfterReply}, killCase{2000, true, killAfterReply})
}

func killRounds(t testing.TB, kind string) {
	env := newLMTPEnv(t)
	srv := startServer(t, env.mailEnv, kind)
	addr := fmt.Sprintf("127.0.0.1:%d", env.LMTPPort)
	sent := map[string]string{}
	acked := map[string]bool{}
	for round, kc := range killCases() {
		subject := fmt.Sprintf("kill-%d", round)
		msg := faultMsg("kill", round, kc.size)
		sent[subject] = msg
		reply := killedTransaction(t, srv, addr, msg, kc)
		srv.kill()
		if strings.HasPrefix(reply, "250 ") {
			acked[subject] = true
		} else if reply != "" && !strings.HasPrefix(reply, "4") {
			t.Errorf("%s round %d: reply %q", kind, round, reply)
		}
		srv = startServer(t, env.mailEnv, kind)
		if fi, err := os.Stat(filepath.Join(env.Maildir("alice"), "dovecot-uidlist.lock")); err == nil {
			// Killed between creating the lock and writing "pid:host" into it: the next
			// delivery waits for the lock to go stale (two minutes).
			t.Logf("%s round %d: the kill left dovecot-uidlist.lock (%d bytes)", kind, round, fi.Size())
		}
		got := storedMessages(t, env.mailEnv, "alice", sent)
		switch {
		case acked[subject] && got[subject] != 1:
			t.Errorf("%s round %d: acknowledged, stored %d times", kind, round, got[subject])
		case !acked[subject] && got[subject] > 1:
			t.Errorf("%s round %d: not acknowledged, stored %d times", kind, round, got[subject])
		case kc.after == killAfterReply && !acked[subject]:
			t.Errorf("%s round %d: no 250 although the server lived until the reply: %q", kind, round, reply)
		}
		t.Logf("%s round %d (%d bytes by %s, kill after chunk %d): reply %q, stored %d", kind, round, kc.size,
			map[bool]string{false: "DATA", true: "BDAT"}[kc.bdat], kc.after, reply, got[subject])
	}
	srv.stop(t)
}

// killedTransaction starts a transaction for alice, sends msg in chunks and kills the server
// as kc says, then collects the reply to the message if any.
func killedTransaction(t testing.TB, srv *server, addr, msg string, kc killCase) string {
	bdat := kc.bdat
	ents, _ := os.ReadDir(filepath.Join(srv.env.Maildir("alice"), "new"))
	n0 := len(ents)
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Longer than the uidlist lock's stale timeout (2 minutes): a lock left empty by the
	// previous round's kill delays this delivery, but must not fail it.
	nc.SetDeadline(time.Now().Add(150 * time.Second))
	start := time.Now()
	defer func() {
		if d := time.Since(start); d > 10*time.Second {
			t.Logf("transaction took %v", d.Round(time.Second))
		}
	}()
	r := bufio.NewReader(nc)
	cmd := "DATA\r\n"
	if bdat {
		cmd = ""
	}
	fmt.Fprintf(nc, "LHLO test\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@example.net>\r\n%s", cmd)
	want := 4
	if bdat {
		want = 3
	}
	for i := 0; i <= want; i++ { // greeting + replies
		if l := readReply(r); l == "" || l[0] != '2' && l[0] != '3' {
			t.Fatalf("setup reply %d: %q", i, l)
		}
	}
	data := dotStuff(msg) + ".\r\n"
	if bdat {
		data = msg
	}
	sent := 0
	for off := 0; off < len(data); off += killChunk {
		end := min(off+killChunk, len(data))
		var err error
		if bdat {
			last := ""
			if end == len(data) {
				last = " LAST"
			}
			_, err = fmt.Fprintf(nc, "BDAT %d%s\r\n%s", end-off, last, data[off:end])
		} else {
			_, err = io.WriteString(nc, data[off:end])
		}
		if err != nil {
			break
		}
		if sent++; sent == kc.after {
			srv.kill()
			break
		}
	}
	switch kc.after {
	case killAfterData:
		srv.kill() // the whole message is sent; its reply may or may not have been
	case killAtFile:
		killAtNewFile(srv, n0)
	}
	for {
		l := readReply(r)
		// A BDAT chunk's "Added" is no reply to the message.
		if l == "" || !strings.Contains(l, " Added ") {
			return l
		}
	}
}

// killAtNewFile kills the server as soon as alice's new/ holds more than n0 entries, spinning
// without sleeping; it kills anyway after ten seconds.
func killAtNewFile(srv *server, n0 int) {
	dir := filepath.Join(srv.env.Maildir("alice"), "new")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if ents, _ := os.ReadDir(dir); len(ents) > n0 {
			break
		}
	}
	srv.kill()
}

// readReply reads one reply; "" when the connection ended.
func readReply(r *bufio.Reader) string {
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return ""
		}
		if len(l) < 4 || l[3] == ' ' {
			return strings.TrimRight(l, "\r\n")
		}
	}
}
