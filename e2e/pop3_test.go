package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// POP3 end-to-end tests: the same Maildir served by Dovecot's pop3 and by roost, real POP3
// clients (Python poplib, curl, fetchmail, mpop), and POP3 beside IMAP on one mailbox.

// pop3Env is a mail installation with POP3 enabled on its own port.
type pop3Env struct {
	*mailEnv
	POP3Port int
}

func (e *pop3Env) POP3Addr() string { return fmt.Sprintf("127.0.0.1:%d", e.POP3Port) }

func newPOP3Env(t testing.TB, extra ...string) *pop3Env {
	t.Helper()
	port := freePort(t)
	conf := fmt.Sprintf("protocols = imap pop3\nservice pop3-login {\n  inet_listener pop3 {\n    port = %d\n  }\n"+
		"  inet_listener pop3s {\n    port = 0\n  }\n}\n", port)
	if os.Geteuid() != 0 {
		conf += "service pop3-login {\n  chroot =\n}\n"
	}
	conf += strings.Join(extra, "\n")
	return &pop3Env{mailEnv: newMailEnv(t, withConfig(conf)), POP3Port: port}
}

// pop3Msgs are written into new/ as an outside writer (Postfix virtual) would: LF line ends, one
// with a leading-dot line, one with an X-UIDL header, one without a final newline.
var pop3Msgs = []struct{ name, body string }{
	{"1700000000.M1P1.host", "From: a@example.org\nSubject: one\n\nhello\n.dot line\n..two\nend\n"},
	{"1700000001.M2P1.host", "From: b@example.org\nSubject: two\nX-UIDL: xuidl-abc\n\nbody two\nline2\nline3\n"},
	{"1700000002.M3P1.host", "From: c@example.org\nSubject: three\n\nno final newline"},
}

// seedMaildir writes pop3Msgs into user's Maildir/new, owned by the mail owner.
func seedMaildir(t testing.TB, e *pop3Env, user string) {
	t.Helper()
	root := e.Maildir(user)
	for _, d := range []string{"", "cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range pop3Msgs {
		if err := os.WriteFile(filepath.Join(root, "new", m.name), []byte(m.body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	filepath.Walk(e.Home(user), func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, e.UID, e.GID) })
}

// maildirState lists the message files of user's INBOX as "dir/name" (flags included).
func maildirState(t testing.TB, e *pop3Env, user string) string {
	t.Helper()
	var names []string
	for _, d := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(e.Maildir(user), d))
		for _, ent := range ents {
			names = append(names, d+"/"+ent.Name())
		}
	}
	sort.Strings(names)
	return strings.Join(names, "\n")
}

// multiLine reports whether cmd's +OK reply is followed by lines ending with ".".
func multiLine(cmd string) bool {
	f := strings.Fields(strings.ToUpper(cmd))
	if len(f) == 0 {
		return false
	}
	switch f[0] {
	case "CAPA", "RETR", "TOP":
		return true
	case "LIST", "UIDL", "AUTH":
		return len(f) == 1
	}
	return false
}

// pop3Session runs cmds on a new connection and returns the transcript ("C: "/"S: " lines).
// It ends when the commands run out or the server closes.
func pop3Session(t testing.TB, addr string, cmds []string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Minute))
	br := bufio.NewReader(nc)
	var b strings.Builder
	read := func() (string, bool) {
		l, err := br.ReadString('\n')
		if err != nil {
			b.WriteString("S: <closed>\n")
			return "", false
		}
		b.WriteString("S: " + strings.TrimSuffix(l, "\r\n") + "\n")
		return l, true
	}
	if _, ok := read(); !ok {
		return b.String()
	}
	for _, cmd := range cmds {
		b.WriteString("C: " + cmd + "\n")
		fmt.Fprintf(nc, "%s\r\n", cmd)
		l, ok := read()
		if !ok {
			return b.String()
		}
		if !strings.HasPrefix(l, "+OK") || !multiLine(cmd) {
			continue
		}
		for {
			l, ok := read()
			if !ok || l == ".\r\n" {
				break
			}
		}
	}
	return b.String()
}

// pop3Script reads every command and error path without changing the store: RETR's \Seen is
// dropped by RSET before QUIT.
var pop3Script = []string{
	"CAPA", "AUTH", "PASS x", "USER bob", "PASS wrong", "STAT", "USER bob", "PASS bobpw",
	"CAPA", "STAT", "LIST", "LIST 2", "LIST 0", "LIST 9", "LIST x", "LIST 1 2", "LIST 1x",
	"UIDL", "UIDL 3", "RETR 1", "RETR 3", "TOP 2 1", "TOP 3 0", "TOP 1 100", "TOP 2", "TOP 2 x",
	"DELE 2", "DELE 2", "RETR 2", "STAT", "LIST", "UIDL", "RSET", "STAT", "NOOP", "NOOP x", "LAST",
	"USER bob", "STLS", "FOO bar", "foo", "RSET", "QUIT",
}

var uidvHex = regexp.MustCompile(`(?m)^(S: (?:\+OK )?\d+ [0-9a-f]{8})[0-9a-f]{8}$`)

// TestPOP3Differential runs pop3Script against Dovecot and then roost on the same Maildir: the
// transcripts, UIDLs included, must be identical. The Dovecot transcript is committed (UIDVALIDITY
// masked) so roost is also checked where Dovecot is not installed.
func TestPOP3Differential(t *testing.T) {
	t.Parallel()
	golden := "testdata/pop3/session.dovecot"
	e := newPOP3Env(t)
	seedMaildir(t, e, "bob")
	var dovecot string
	if _, err := os.Stat("/usr/sbin/dovecot"); err == nil || inCI() {
		srv := startServer(t, e.mailEnv, "dovecot")
		dovecot = pop3Session(t, e.POP3Addr(), pop3Script)
		srv.stop(t)
		masked := uidvHex.ReplaceAllString(dovecot, "${1}<UIDV>")
		if *update {
			if err := os.WriteFile(golden, []byte(masked), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		compareGolden(t, "dovecot", golden, masked)
	}
	roostCase(t, func(t testing.TB) {
		srv := startServer(t, e.mailEnv, "roost")
		got := pop3Session(t, e.POP3Addr(), pop3Script)
		srv.stop(t)
		if dovecot != "" && got != dovecot {
			t.Errorf("roost differs from Dovecot on the same Maildir: -dovecot +roost\n%s", lineDiff(dovecot, got))
		}
		compareGolden(t, "roost", golden, uidvHex.ReplaceAllString(got, "${1}<UIDV>"))
	})
}

// TestPOP3UpdateDifferential: RETR, TOP, DELE and QUIT on two identical stores leave identical
// Maildirs (\Seen for RETR only, the DELEd file gone); a session dropped without QUIT deletes
// nothing; the IMAP view afterwards has no \Recent.
func TestPOP3UpdateDifferential(t *testing.T) {
	t.Parallel()
	states := map[string]string{}
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			body := func(t testing.TB) {
				e := newPOP3Env(t)
				seedMaildir(t, e, "bob")
				srv := startServer(t, e.mailEnv, kind)
				var b strings.Builder
				b.WriteString(pop3Session(t, e.POP3Addr(), []string{"USER bob", "PASS bobpw", "RETR 2", "DELE 3"}))
				// The dropped session writes its \Seen when the server notices the
				// disconnect; wait for that so the sessions below do not race it.
				waitLog(t, srv, 1, "pop3(bob)", "Disconnected")
				b.WriteString(pop3Session(t, e.POP3Addr(), []string{"USER bob", "PASS bobpw", "STAT",
					"RETR 1", "TOP 2 0", "DELE 3", "QUIT"}))
				b.WriteString(pop3Session(t, e.POP3Addr(), []string{"USER bob", "PASS bobpw", "STAT", "QUIT"}))
				c := dialIMAP(t, srv.Addr(), "bob", "bobpw")
				r := c.must("EXAMINE INBOX")
				for _, l := range r.untagged {
					if strings.Contains(l, "RECENT") || strings.Contains(l, "EXISTS") {
						b.WriteString(l + "\n")
					}
				}
				f := c.must("FETCH 1:* (FLAGS)")
				b.WriteString(strings.Join(f.untagged, "\n") + "\n")
				c.logout()
				srv.stop(t)
				b.WriteString(stripFileNames(maildirState(t, e, "bob")))
				states[kind] = b.String()
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
	if d, r := states["dovecot"], states["roost"]; d != "" && r != "" && d != r {
		t.Errorf("roost differs from Dovecot: -dovecot +roost\n%s", lineDiff(d, r))
	}
}

// waitLog waits up to 5 s until the server's log has n lines containing all of subs. It
// returns without failing: a difference shows up in what the test compares.
func waitLog(t testing.TB, srv *server, n int, subs ...string) {
	t.Helper()
	for range 100 {
		log, _ := os.ReadFile(srv.env.LogPath())
		found := 0
		for _, l := range strings.Split(string(log), "\n") {
			all := true
			for _, s := range subs {
				all = all && strings.Contains(l, s)
			}
			if all {
				found++
			}
		}
		if found >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s: fewer than %d log lines with %q", srv.kind, n, subs)
}

// stripFileNames keeps the directory, base name and flags of Maildir file names, dropping
// ,S=/,W= size fields that the two servers may add differently.
func stripFileNames(s string) string {
	return regexp.MustCompile(`,[SW]=\d+`).ReplaceAllString(s, "") + "\n"
}

// TestPOP3WithIMAP: an IMAP session has INBOX selected while a POP3 session retrieves and
// deletes; the IMAP session then sees the expunge and the \Seen flag, as with Dovecot.
func TestPOP3WithIMAP(t *testing.T) {
	t.Parallel()
	results := map[string]string{}
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			body := func(t testing.TB) {
				e := newPOP3Env(t)
				seedMaildir(t, e, "bob")
				srv := startServer(t, e.mailEnv, kind)
				var b strings.Builder
				c := dialIMAP(t, srv.Addr(), "bob", "bobpw")
				sel := c.must("SELECT INBOX")
				for _, l := range sel.untagged {
					if strings.Contains(l, "RECENT") || strings.Contains(l, "EXISTS") {
						b.WriteString(l + "\n")
					}
				}
				// The POP3 session's list is fixed at login: IMAP's expunge of message 3
				// and a new message are not seen by it.
				p := pop3Session(t, e.POP3Addr(), []string{"USER bob", "PASS bobpw", "STAT"})
				b.WriteString(p)
				c.must(`STORE 3 +FLAGS.SILENT (\Deleted)`)
				c.must("EXPUNGE")
				b.WriteString(pop3Session(t, e.POP3Addr(), []string{"USER bob", "PASS bobpw", "STAT", "RETR 1",
					"DELE 2", "UIDL", "QUIT"}))
				n := c.must("NOOP")
				sort.Strings(n.untagged)
				b.WriteString(strings.Join(n.untagged, "\n") + "\n")
				f := c.must("FETCH 1:* (FLAGS)")
				b.WriteString(strings.Join(f.untagged, "\n") + "\n")
				c.logout()
				results[kind] = uidvHex.ReplaceAllString(b.String(), "${1}<UIDV>")
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
	if d, r := results["dovecot"], results["roost"]; d != "" && r != "" && d != r {
		t.Errorf("roost differs from Dovecot: -dovecot +roost\n%s", lineDiff(d, r))
	}
}

// forEachPOP3Server runs f against a fresh Dovecot and a fresh roost with pop3Msgs in bob's INBOX.
func forEachPOP3Server(t *testing.T, f func(t testing.TB, e *pop3Env, srv *server)) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				e := newPOP3Env(t)
				seedMaildir(t, e, "bob")
				srv := startServer(t, e.mailEnv, kind)
				f(t, e, srv)
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

// crlfMsg is a message as POP3 sends it (CRLF line ends, final CRLF).
func crlfMsg(s string) string {
	s = strings.ReplaceAll(s, "\n", "\r\n")
	if !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return s
}

const poplibScript = `
import poplib, sys
host, port = sys.argv[1], int(sys.argv[2])
p = poplib.POP3(host, port)
assert p.getwelcome().startswith(b"+OK"), p.getwelcome()
caps = p.capa()
assert "UIDL" in caps and "TOP" in caps and "USER" in caps, caps
p.user("bob"); p.pass_("bobpw")
n, size = p.stat()
assert (n, size) == (3, 202), (n, size)
resp, listing, _ = p.list()
assert listing == [b"1 67", b"2 80", b"3 55"], listing
resp, uidls, _ = p.uidl()
assert len(uidls) == 3 and len(set(u.split()[1] for u in uidls)) == 3, uidls
resp, lines, octets = p.retr(1)
assert lines == [b"From: a@example.org", b"Subject: one", b"", b"hello", b".dot line", b"..two", b"end"], lines
resp, lines, _ = p.top(2, 1)
assert lines[-1] == b"body two", lines
p.dele(3)
print(p.quit().decode())
p = poplib.POP3(host, port); p.user("bob"); p.pass_("bobpw")
assert p.stat() == (2, 147), p.stat()
p.quit()
print("poplib: ok")
`

func TestClientPythonPoplib(t *testing.T) {
	t.Parallel()
	py := need(t, "python3")
	forEachPOP3Server(t, func(t testing.TB, e *pop3Env, srv *server) {
		out, err := runClient(t, nil, py, "-c", poplibScript, "127.0.0.1", fmt.Sprint(e.POP3Port))
		if err != nil || !strings.Contains(out, "poplib: ok") || !strings.Contains(out, "+OK Logging out, messages deleted.") {
			t.Errorf("%s: poplib: %v\n%s", srv.kind, err, out)
		}
	})
}

func TestClientCurlPOP3(t *testing.T) {
	t.Parallel()
	curl := need(t, "curl")
	forEachPOP3Server(t, func(t testing.TB, e *pop3Env, srv *server) {
		base := fmt.Sprintf("pop3://127.0.0.1:%d", e.POP3Port)
		run := func(args ...string) string {
			t.Helper()
			out, err := runClient(t, nil, curl, append([]string{"-sS", "--user", "bob:bobpw"}, args...)...)
			if err != nil {
				t.Fatalf("curl %q against %s: %v\n%s", args, srv.kind, err, out)
			}
			return out
		}
		if got := run(base + "/"); got != "1 67\r\n2 80\r\n3 55\r\n" {
			t.Errorf("%s: curl LIST = %q", srv.kind, got)
		}
		if got, want := run(base+"/1"), crlfMsg(pop3Msgs[0].body); got != want {
			t.Errorf("%s: curl RETR 1 = %q, want %q", srv.kind, got, want)
		}
		if got := run(base+"/", "-X", "UIDL"); len(strings.Split(strings.TrimSpace(got), "\r\n")) != 3 {
			t.Errorf("%s: curl UIDL = %q", srv.kind, got)
		}
		if got := run(base+"/", "-X", "TOP 3 0"); got != "From: c@example.org\r\nSubject: three\r\n\r\n" {
			t.Errorf("%s: curl TOP = %q", srv.kind, got)
		}
		run(base+"/3", "-X", "DELE", "-I")
		if got := run(base + "/"); got != "1 67\r\n2 80\r\n" {
			t.Errorf("%s: curl LIST after DELE = %q", srv.kind, got)
		}
	})
}

func TestClientFetchmail(t *testing.T) {
	t.Parallel()
	fm := need(t, "fetchmail")
	forEachPOP3Server(t, func(t testing.TB, e *pop3Env, srv *server) {
		dir := t.TempDir()
		mbox := filepath.Join(dir, "pop3.mbox")
		rc := filepath.Join(dir, "fetchmailrc")
		conf := fmt.Sprintf("set no syslog\npoll 127.0.0.1 service %d protocol POP3 auth password timeout 20\n"+
			"  user \"bob\" password \"bobpw\" is \"bob\" here\n  sslproto '' keep fetchall\n"+
			"  mda \"/bin/sh -c 'cat >> %s'\"\n", e.POP3Port, mbox)
		if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		env := append(os.Environ(), "HOME="+dir, "FETCHMAILHOME="+dir) // own pid lock per run
		out, err := runClient(t, env, fm, "-f", rc, "-i", filepath.Join(dir, "fetchids"), "-v", "--nodetach")
		if err != nil {
			t.Fatalf("%s: fetchmail: %v\n%s", srv.kind, err, out)
		}
		got, _ := os.ReadFile(mbox)
		for _, m := range pop3Msgs {
			subject := headerValue(m.body, "Subject")
			if !strings.Contains(string(got), "Subject: "+subject) {
				t.Errorf("%s: fetchmail did not deliver %q:\n%s\n%s", srv.kind, subject, got, out)
			}
		}
		if !strings.Contains(out, "3 messages") {
			t.Errorf("%s: fetchmail output:\n%s", srv.kind, out)
		}
	})
}

func TestClientMpop(t *testing.T) {
	t.Parallel()
	mpop := need(t, "mpop")
	forEachPOP3Server(t, func(t testing.TB, e *pop3Env, srv *server) {
		dir := t.TempDir()
		md := filepath.Join(dir, "Maildir")
		for _, d := range []string{"cur", "new", "tmp"} {
			os.MkdirAll(filepath.Join(md, d), 0o700)
		}
		args := []string{"--host=127.0.0.1", fmt.Sprintf("--port=%d", e.POP3Port), "--user=bob",
			"--passwordeval=echo bobpw", "--tls=off", "--auth=user", "--keep=on", "--only-new=on",
			"--delivery=maildir," + md, "--uidls-file=" + filepath.Join(dir, "uidls")}
		out, err := runClient(t, nil, mpop, args...)
		if err != nil {
			t.Fatalf("%s: mpop: %v\n%s", srv.kind, err, out)
		}
		ents, _ := os.ReadDir(filepath.Join(md, "new"))
		if len(ents) != 3 {
			t.Errorf("%s: mpop delivered %d messages:\n%s", srv.kind, len(ents), out)
		}
		// UIDL tracking: a second run fetches nothing new.
		out, err = runClient(t, nil, mpop, args...)
		ents2, _ := os.ReadDir(filepath.Join(md, "new"))
		if err != nil || len(ents2) != 3 {
			t.Errorf("%s: second mpop run: %v, %d messages\n%s", srv.kind, err, len(ents2), out)
		}
	})
}
