package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lmtpEnv is a mailEnv serving LMTP on a loopback port and a unix socket, with a
// userdb that can say "no such user" (static userdb checks the passdb).
type lmtpEnv struct {
	*mailEnv
	LMTPPort int
	Socket   string
}

func withLMTP(port int) envOption {
	return func(e *mailEnv) {
		e.extra += fmt.Sprintf(`protocols = imap lmtp
hostname = mail.example.net
auth_username_format = %%Ln
lmtp_save_to_detail_mailbox = yes
service lmtp {
  unix_listener %s/lmtp.sock {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = %d
  }
}
`, e.Dir, port)
	}
}

func newLMTPEnv(t testing.TB, opts ...envOption) *lmtpEnv {
	t.Helper()
	port := freePort(t)
	e := newMailEnv(t, append([]envOption{withLMTP(port)}, opts...)...)
	return &lmtpEnv{mailEnv: e, LMTPPort: port, Socket: filepath.Join(e.Dir, "lmtp.sock")}
}

// forEachLMTPServer runs f against Dovecot and roost, each on its own installation.
func forEachLMTPServer(t *testing.T, f func(t testing.TB, env *lmtpEnv, kind string)) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				env := newLMTPEnv(t)
				startServer(t, env.mailEnv, kind)
				f(t, env, kind)
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

// makeFolder creates a Maildir++ folder the way Dovecot does, owned by the mail user.
func (e *lmtpEnv) makeFolder(t testing.TB, user, name string) {
	t.Helper()
	root := e.Maildir(user)
	for _, d := range []string{root, filepath.Join(root, "."+name)} {
		for _, sub := range []string{"", "cur", "new", "tmp"} {
			p := filepath.Join(d, sub)
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			os.Chown(p, e.UID, e.GID)
		}
	}
	os.Chown(e.Home(user), e.UID, e.GID)
	os.WriteFile(filepath.Join(root, "."+name, "maildirfolder"), nil, 0o600)
	os.Chown(filepath.Join(root, "."+name, "maildirfolder"), e.UID, e.GID)
}

// stored returns the messages in a user's folder ("" is INBOX), new/ and cur/, with the
// volatile parts of the trace headers normalised, sorted.
func (e *lmtpEnv) stored(t testing.TB, user, folder string) []string {
	t.Helper()
	dir := e.Maildir(user)
	if folder != "" {
		dir = filepath.Join(dir, "."+folder)
	}
	var out []string
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, ent := range ents {
			b, err := os.ReadFile(filepath.Join(dir, sub, ent.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, normaliseTrace(string(b)))
		}
	}
	sort.Strings(out)
	return out
}

var (
	reTraceID   = regexp.MustCompile(`(?m)^\tid [A-Za-z0-9+/]+(:T\d+)?$`)
	reTraceDate = regexp.MustCompile(`; [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}`)
	reSessionID = regexp.MustCompile(`> [A-Za-z0-9+/]{22}((?::T\d+)?(?::R\d+)?) Saved`)
)

func normaliseTrace(s string) string {
	s = reTraceID.ReplaceAllString(s, "\tid ID")
	return reTraceDate.ReplaceAllString(s, "; DATE")
}

// lmtpConn is a raw LMTP client for exact transcripts.
type lmtpConn struct {
	t  testing.TB
	nc net.Conn
	r  *bufio.Reader
	tr []string // transcript, normalised
}

func dialLMTP(t testing.TB, network, addr string) *lmtpConn {
	t.Helper()
	nc, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &lmtpConn{t: t, nc: nc, r: bufio.NewReader(nc)}
	c.read(1)
	return c
}

func (c *lmtpConn) send(s string, replies int) {
	c.t.Helper()
	for _, l := range strings.SplitAfter(s, "\r\n") {
		if l != "" {
			c.tr = append(c.tr, "C: "+strings.TrimSuffix(l, "\r\n"))
		}
	}
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
	c.read(replies)
}

func (c *lmtpConn) read(replies int) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := 0; i < replies; i++ {
		for {
			l, err := c.r.ReadString('\n')
			if err != nil {
				c.t.Fatalf("read reply: %v; transcript:\n%s", err, strings.Join(c.tr, "\n"))
			}
			l = strings.TrimRight(l, "\r\n")
			if n := normaliseReply(l); n != "" {
				c.tr = append(c.tr, "S: "+n)
			}
			if len(l) < 4 || l[3] == ' ' {
				break
			}
		}
	}
}

// normaliseReply removes what may differ between the servers: greeting text, the
// session id, and SIZE (roost advertises it, Dovecot 2.3 does not; "" drops the line).
func normaliseReply(l string) string {
	if strings.HasPrefix(l, "220 mail.example.net ") {
		return "220 mail.example.net ready"
	}
	if strings.HasPrefix(l, "250-SIZE") || strings.HasPrefix(l, "250 SIZE") {
		return ""
	}
	if len(l) > 3 && l[3] == '-' {
		l = l[:3] + " " + l[4:] // continuation marks move when SIZE is dropped
	}
	return reSessionID.ReplaceAllString(l, "> ID$1 Saved")
}

// TestLMTPDifferential runs one scripted session — many recipients, pipelining, an unknown
// user, +detail into an existing and a missing folder, BDAT — against Dovecot and roost, and
// compares the transcripts and the stored bytes.
func TestLMTPDifferential(t *testing.T) {
	t.Parallel()
	results := map[string]lmtpResult{}
	var mu sync.Mutex // guards results
	t.Cleanup(func() { compareLMTP(t, results["dovecot"], results["roost"]) })
	forEachLMTPServer(t, func(t testing.TB, env *lmtpEnv, kind string) {
		env.makeFolder(t, "alice", "work")
		c := dialLMTP(t, "tcp", fmt.Sprintf("127.0.0.1:%d", env.LMTPPort))
		c.send("LHLO client.example\r\n", 1)
		// Pipelined: MAIL, eight RCPTs and DATA in one write.
		c.send("MAIL FROM:<sender@example.org> BODY=8BITMIME\r\n"+
			"RCPT TO:<alice@example.net>\r\nRCPT TO:<nobody@example.net>\r\nRCPT TO:<bob@example.net>\r\n"+
			"RCPT TO:<alice+work@example.net>\r\nRCPT TO:<bob+missing@example.net>\r\nRCPT TO:<BOB@example.net>\r\n"+
			"RCPT TO:<ghost>\r\nRCPT TO:<alice>\r\nDATA\r\n", 10)
		c.send("From: s@example.org\r\nSubject: many\r\nMessage-ID: <many@example.org>\r\n\r\nbody\r\n..dotted\r\n.\r\n", 6)
		// BDAT in chunks, one recipient (Delivered-To and "for" appear).
		c.send("MAIL FROM:<>\r\nRCPT TO:<bob@example.net>\r\nBDAT 21\r\nSubject: chunked\r\n\r\nx", 3)
		c.send("BDAT 6 LAST\r\nyz\r\n\r\n", 1)
		c.send("RSET\r\nNOOP\r\nRCPT TO:<alice>\r\nVRFY alice\r\nQUIT\r\n", 5)
		r := lmtpResult{tr: c.tr, stored: map[string][]string{}}
		for _, f := range []struct{ user, folder string }{{"alice", ""}, {"alice", "work"}, {"bob", ""}, {"bob", "missing"}} {
			r.stored[f.user+"/"+f.folder] = env.stored(t, f.user, f.folder)
		}
		if n := len(r.stored["alice/"]) + len(r.stored["alice/work"]); n != 3 {
			t.Errorf("%s: alice has %d messages, want 3", kind, n)
		}
		mu.Lock()
		results[kind] = r
		mu.Unlock()
	})
}

type lmtpResult struct {
	tr     []string
	stored map[string][]string
}

// compareLMTP runs after both servers' subtests (parallel subtests end before the
// parent's cleanup).
func compareLMTP(t *testing.T, d, r lmtpResult) {
	if d.tr == nil || r.tr == nil {
		t.Log("compare: needs both servers' results")
		return
	}
	if strings.Join(d.tr, "\n") != strings.Join(r.tr, "\n") {
		t.Errorf("transcripts differ:\n--- dovecot\n%s\n--- roost\n%s", strings.Join(d.tr, "\n"), strings.Join(r.tr, "\n"))
	}
	for k, dv := range d.stored {
		if strings.Join(dv, "\x00") != strings.Join(r.stored[k], "\x00") {
			t.Errorf("%s differs:\n--- dovecot\n%q\n--- roost\n%q", k, dv, r.stored[k])
		}
	}
}

// TestLMTPClients delivers with Python smtplib.LMTP (TCP and unix socket), swaks and msmtp.
func TestLMTPClients(t *testing.T) {
	t.Parallel()
	py := need(t, "python3")
	swaks := need(t, "swaks")
	msmtp := need(t, "msmtp")
	forEachLMTPServer(t, func(t testing.TB, env *lmtpEnv, kind string) {
		port := fmt.Sprint(env.LMTPPort)
		script := `
import smtplib, sys
host, port, sock = sys.argv[1], int(sys.argv[2]), sys.argv[3]
msg = b"From: p@example.org\r\nSubject: smtplib\r\n\r\nhello\r\n"
c = smtplib.LMTP(host, port)
refused = c.sendmail("p@example.org", ["alice@example.net", "nobody@example.net"], msg)
assert list(refused) == ["nobody@example.net"] and refused["nobody@example.net"][0] == 550, refused
c.quit()
c = smtplib.LMTP(sock)
assert c.sendmail("p@example.org", ["bob@example.net"], msg) == {}
c.quit()
print("smtplib: ok")
`
		out, err := runClient(t, nil, py, "-c", script, "127.0.0.1", port, env.Socket)
		if err != nil || !strings.Contains(out, "smtplib: ok") {
			t.Fatalf("%s: smtplib: %v\n%s", kind, err, out)
		}
		out, err = runClient(t, nil, swaks, "--protocol", "LMTP", "--server", "127.0.0.1", "--port", port,
			"--from", "s@example.org", "--to", "alice@example.net,bob@example.net", "--pipeline",
			"--header", "Subject: swaks", "--body", "swaks body", "--silent", "2")
		if err != nil {
			t.Fatalf("%s: swaks: %v\n%s", kind, err, out)
		}
		out, err = runClient(t, nil, swaks, "--protocol", "LMTP", "--socket", env.Socket,
			"--from", "s@example.org", "--to", "nobody@example.net", "--silent", "2")
		if err == nil || !strings.Contains(out, "550 5.1.1") {
			t.Fatalf("%s: swaks to an unknown user: %v\n%s", kind, err, out)
		}
		cmd := exec.Command(msmtp, "--host=127.0.0.1", "--port="+port, "--protocol=lmtp", "--auth=off", "--tls=off",
			"--from=m@example.org", "--", "alice@example.net", "bob+msmtp@example.net")
		cmd.Stdin = strings.NewReader("Subject: msmtp\r\n\r\nvia msmtp\r\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: msmtp: %v\n%s", kind, err, out)
		}
		subjects := func(user string) string {
			var s []string
			for _, m := range env.stored(t, user, "") {
				s = append(s, headerValue(m, "Subject"))
			}
			sort.Strings(s)
			return strings.Join(s, ",")
		}
		if got := subjects("alice"); got != "msmtp,smtplib,swaks" {
			t.Errorf("%s: alice has %q", kind, got)
		}
		if got := subjects("bob"); got != "msmtp,smtplib,swaks" {
			t.Errorf("%s: bob has %q", kind, got)
		}
	})
}

// TestLMTPIMAPSeesDelivery: an IMAP session with INBOX selected sees an LMTP delivery at
// its next NOOP (roost: through the shared storage driver's tracker).
func TestLMTPIMAPSeesDelivery(t *testing.T) {
	t.Parallel()
	forEachLMTPServer(t, func(t testing.TB, env *lmtpEnv, kind string) {
		ic := dialIMAP(t, fmt.Sprintf("127.0.0.1:%d", env.Port), "alice", "alicepw")
		defer ic.logout()
		ic.must("SELECT INBOX")
		c := dialLMTP(t, "unix", env.Socket)
		c.send("LHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice>\r\nDATA\r\n", 4)
		c.send("Subject: live\r\n\r\nx\r\n.\r\n", 1)
		r := ic.must("NOOP")
		if !strings.Contains(strings.Join(r.untagged, "\n"), "* 1 EXISTS") {
			t.Fatalf("%s: NOOP after delivery: %q", kind, r.untagged)
		}
	})
}

// TestLDADifferential runs Dovecot's dovecot-lda and roost invoked as dovecot-lda with the
// same arguments, as the mail user (as Postfix pipe runs them), and compares exit codes and
// stored bytes.
func TestLDADifferential(t *testing.T) {
	t.Parallel()
	dovecotLDA := "/usr/lib/dovecot/dovecot-lda"
	if _, err := os.Stat(dovecotLDA); err != nil {
		need(t, "dovecot-lda")
	}
	roostBin := needRoost(t)
	cases := []struct {
		name  string
		args  []string
		input string
	}{
		{"known user", []string{"-d", "alice", "-f", "s@example.org"}, "Subject: one\n\nbody\n"},
		{"address", []string{"-d", "bob@example.net", "-f", "s@example.org"}, "Subject: two\n\nbody\n"},
		{"unknown user", []string{"-d", "nobody", "-f", "s@example.org"}, "Subject: none\n\n"},
		{"mbox From line", []string{"-d", "alice"}, "From MAILER-DAEMON Sat Jan  3 01:05:34 1996\nSubject: three\n\nx\n"},
		{"missing mailbox", []string{"-d", "alice", "-m", "Missing"}, "Subject: four\n\nx\n"},
		{"existing mailbox", []string{"-d", "alice", "-m", "work"}, "Subject: five\n\nx\n"},
		{"quota warning -o", []string{"-d", "bob", "-o", "plugin/quota=maildir:User quota:noenforcing"}, "From: postmaster@urown.net\nSubject: quota\n\n95%\n"},
		{"malformed", []string{"-d", "bob"}, "no header line\r\n\x00\xff binary \n"},
	}
	type outcome struct {
		codes  []int
		stored map[string][]string
	}
	run := func(t *testing.T, kind string) outcome {
		// Dovecot's LDA asks the running server's auth-userdb socket; roost's reads the
		// userdb itself, beside its running daemon.
		env := newLMTPEnv(t, withConfig("service auth {\n  unix_listener auth-userdb {\n    mode = 0666\n  }\n}"))
		env.makeFolder(t, "alice", "work")
		startServer(t, env.mailEnv, kind)
		bin := dovecotLDA
		if kind == "roost" {
			bin = filepath.Join(env.Dir, "dovecot-lda")
			if err := os.Symlink(roostBin, bin); err != nil {
				t.Fatal(err)
			}
		}
		var o outcome
		for _, tc := range cases {
			cmd := exec.Command(bin, append([]string{"-c", env.Conf}, tc.args...)...)
			cmd.Stdin = strings.NewReader(tc.input)
			cmd.Dir = env.Dir
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(env.UID), Gid: uint32(env.GID)}}
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			t.Logf("%s %s: exit %d %s", kind, tc.name, code, strings.TrimSpace(string(out)))
			if code == 75 {
				log, _ := os.ReadFile(env.LogPath())
				t.Logf("log: %s", tail(string(log), 5))
			}
			o.codes = append(o.codes, code)
		}
		o.stored = map[string][]string{"alice": env.stored(t, "alice", ""), "alice/work": env.stored(t, "alice", "work"), "bob": env.stored(t, "bob", "")}
		return o
	}
	var d outcome
	t.Run("dovecot", func(t *testing.T) { d = run(t, "dovecot") })
	t.Run("roost", func(t *testing.T) {
		r := run(t, "roost")
		if d.codes == nil {
			t.Skip("no Dovecot outcome to compare with")
		}
		for i, tc := range cases {
			if d.codes[i] != r.codes[i] {
				t.Errorf("%s: exit %d, Dovecot %d", tc.name, r.codes[i], d.codes[i])
			}
		}
		for k, dv := range d.stored {
			if strings.Join(dv, "\x00") != strings.Join(r.stored[k], "\x00") {
				t.Errorf("%s differs:\n--- dovecot\n%q\n--- roost\n%q", k, dv, r.stored[k])
			}
		}
	})
}
