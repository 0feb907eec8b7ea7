package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpSink is a local SMTP server that keeps what it is sent: Sieve's
// outgoing mail (vacation, redirect, reject) never leaves the machine.
type smtpSink struct {
	Addr string
	mu   sync.Mutex // guards msgs
	msgs []string
}

func newSMTPSink(t testing.TB) *smtpSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpSink{Addr: l.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

func (s *smtpSink) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	r := bufio.NewReader(c)
	fmt.Fprintf(c, "220 sink ESMTP\r\n")
	var env string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(l))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			fmt.Fprintf(c, "250 sink\r\n")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
			env += strings.TrimSpace(l) + "\n"
			fmt.Fprintf(c, "250 2.0.0 OK\r\n")
		case cmd == "DATA":
			fmt.Fprintf(c, "354 go\r\n")
			var b strings.Builder
			for {
				dl, err := r.ReadString('\n')
				if err != nil || dl == ".\r\n" || dl == ".\n" {
					break
				}
				b.WriteString(dl)
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, env+b.String())
			s.mu.Unlock()
			env = ""
			fmt.Fprintf(c, "250 2.0.0 queued\r\n")
		case cmd == "QUIT":
			fmt.Fprintf(c, "221 bye\r\n")
			return
		default:
			fmt.Fprintf(c, "250 OK\r\n")
		}
	}
}

func (s *smtpSink) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// withSieve turns on Sieve at LMTP delivery with outgoing mail to sink, and
// ManageSieve on port.
func withSieve(sinkAddr string, port int) envOption {
	return withConfig(fmt.Sprintf(`protocols = imap lmtp sieve
submission_host = %s
postmaster_address = postmaster@example.net
protocol lmtp {
  mail_plugins = $mail_plugins sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_quota_max_scripts = 5
}
service managesieve-login {
  inet_listener sieve {
    port = %d
  }
}
`, sinkAddr, port))
}

// writeOwned writes a file (and its directories) owned by the mail user.
func (e *mailEnv) writeOwned(t testing.TB, path, data string) {
	t.Helper()
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for d := dir; strings.HasPrefix(d, e.Dir+"/home"); d = filepath.Dir(d) {
		os.Chown(d, e.UID, e.GID)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(path, e.UID, e.GID)
}

func (e *mailEnv) activateScript(t testing.TB, user, name, script string) {
	t.Helper()
	e.writeOwned(t, filepath.Join(e.Home(user), "sieve", name+".sieve"), script)
	link := filepath.Join(e.Home(user), ".dovecot.sieve")
	os.Remove(link)
	if err := os.Symlink("sieve/"+name+".sieve", link); err != nil {
		t.Fatal(err)
	}
	os.Lchown(link, e.UID, e.GID)
}

const sieveUserScript = `require ["fileinto", "mailbox", "imap4flags", "vacation"];
# rule:[vacation]
vacation :days 1 :subject "Away" "I am away until Monday.";
# rule:[lists]
if header :contains "Subject" "[list]" {
  addflag "\\Flagged";
  fileinto :create "Lists";
  stop;
}
`

func lmtpDeliver(t testing.TB, env *lmtpEnv, subject string) {
	t.Helper()
	c := dialLMTP(t, "tcp", fmt.Sprintf("127.0.0.1:%d", env.LMTPPort))
	msg := "From: Bob <bob@example.org>\r\nTo: Alice <alice@example.net>\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "") + "@example.org>\r\n\r\nHello.\r\n.\r\n"
	c.send("LHLO client.example.org\r\n", 1)
	c.send("MAIL FROM:<bob@example.org>\r\n", 1)
	c.send("RCPT TO:<alice@example.net>\r\n", 1)
	c.send("DATA\r\n", 1)
	c.send(msg, 1)
	last := c.tr[len(c.tr)-1]
	if !strings.HasPrefix(last, "S: 250 ") {
		t.Fatalf("delivery of %q: %s", subject, strings.Join(c.tr, "\n"))
	}
	c.send("QUIT\r\n", 1)
}

// flagsOf returns the Maildir flags of every message in a folder.
func (e *mailEnv) flagsOf(user, folder string) []string {
	dir := e.Maildir(user)
	if folder != "" {
		dir = filepath.Join(dir, "."+folder)
	}
	var out []string
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, ent := range ents {
			_, fl, _ := strings.Cut(ent.Name(), ":2,")
			out = append(out, fl)
		}
	}
	sort.Strings(out)
	return out
}

// TestSieveDelivery: over LMTP, a user script files by header with a flag and answers a
// vacation once (captured by a local SMTP sink); then a broken script still delivers to
// INBOX and the error goes to ~/.dovecot.sieve.log. Run against Dovecot+Pigeonhole and roost.
func TestSieveDelivery(t *testing.T) {
	t.Parallel()
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				sink := newSMTPSink(t)
				env := newLMTPEnv(t, withSieve(sink.Addr, freePort(t)))
				env.activateScript(t, "alice", "main", sieveUserScript)
				startServer(t, env.mailEnv, kind)
				lmtpDeliver(t, env, "[list] one")
				lmtpDeliver(t, env, "[list] two")
				if got := env.flagsOf("alice", "Lists"); len(got) != 2 || got[0] != "F" || got[1] != "F" {
					t.Errorf("Lists: flags %q, want two messages flagged F", got)
				}
				if got := env.stored(t, "alice", ""); len(got) != 0 {
					t.Errorf("INBOX has %d messages, want 0", len(got))
				}
				replies := sink.messages()
				if len(replies) != 1 || !strings.Contains(replies[0], "Subject: Away") ||
					!strings.Contains(replies[0], "RCPT TO:<bob@example.org>") || !strings.Contains(replies[0], "I am away until Monday.") {
					t.Errorf("vacation replies: %q", replies)
				}
				// A broken script: the message still arrives, the error is logged.
				env.writeOwned(t, filepath.Join(env.Home("alice"), "sieve", "main.sieve"), "require \"fileinto\";\nfileinto \"x\"\nkeep;\n")
				lmtpDeliver(t, env, "plain three")
				if got := env.stored(t, "alice", ""); len(got) != 1 {
					t.Errorf("INBOX has %d messages after the broken script, want 1", len(got))
				}
				b, err := os.ReadFile(filepath.Join(env.Home("alice"), ".dovecot.sieve.log"))
				if err != nil || !strings.Contains(string(b), "main: line 2: error:") {
					t.Errorf("~/.dovecot.sieve.log = %q, %v", b, err)
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

// newManageSieveEnv starts kind with ManageSieve (STARTTLS available) and returns its port.
func newManageSieveEnv(t testing.TB, kind string) (*lmtpEnv, int) {
	t.Helper()
	port := freePort(t)
	env := newLMTPEnv(t, withTLS(), withSieve("127.0.0.1:9", port))
	os.MkdirAll(env.Home("alice"), 0o700)
	os.Chown(env.Home("alice"), env.UID, env.GID)
	startServer(t, env.mailEnv, kind)
	return env, port
}

// TestManageSieveSieveConnect: the sieve-connect client uploads, lists, activates,
// downloads and deletes scripts over STARTTLS with PLAIN; a bad script is refused with
// the line of the error.
func TestManageSieveSieveConnect(t *testing.T) {
	t.Parallel()
	bin := need(t, "sieve-connect")
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				env, port := newManageSieveEnv(t, kind)
				dir := t.TempDir()
				good := filepath.Join(dir, "rules.sieve")
				os.WriteFile(good, []byte(sieveUserScript), 0o600)
				bad := filepath.Join(dir, "bad.sieve")
				os.WriteFile(bad, []byte("require \"fileinto\";\nif true {\n  fileinto \"x\"\n}\n"), 0o600)
				run := func(args ...string) (string, error) {
					base := []string{"--server", "127.0.0.1", "--port", fmt.Sprint(port), "--user", "alice",
						"--authmech", "PLAIN", "--notlsverify", "--passwordfd", "0"}
					cmd := exec.Command(bin, append(base, args...)...)
					cmd.Stdin = strings.NewReader("alicepw\n")
					out, err := cmd.CombinedOutput()
					return string(out), err
				}
				mustRun := func(args ...string) string {
					out, err := run(args...)
					if err != nil {
						t.Fatalf("sieve-connect %v: %v\n%s", args, err, out)
					}
					return out
				}
				mustRun("--upload", "--localsieve", good, "--remotesieve", "rules")
				mustRun("--activate", "--remotesieve", "rules")
				if out := mustRun("--list"); !strings.Contains(out, "rules") || !strings.Contains(out, "\"rules\" ACTIVE") {
					t.Errorf("list: %q", out)
				}
				fetched := filepath.Join(dir, "fetched.sieve")
				mustRun("--download", "--remotesieve", "rules", "--localsieve", fetched)
				if b, _ := os.ReadFile(fetched); string(b) != sieveUserScript {
					t.Errorf("downloaded %q", b)
				}
				if l, err := os.Readlink(filepath.Join(env.Home("alice"), ".dovecot.sieve")); err != nil || l != "sieve/rules.sieve" {
					t.Errorf("active link %q %v", l, err)
				}
				out, err := run("--upload", "--localsieve", bad, "--remotesieve", "bad")
				if err == nil || !strings.Contains(out, "line 4: error") {
					t.Errorf("bad script: err %v, output %q", err, out)
				}
				mustRun("--deactivate")
				mustRun("--delete", "--remotesieve", "rules")
				if out := mustRun("--list"); strings.Contains(out, "rules") {
					t.Errorf("list after delete: %q", out)
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

// manageSieveSession is the differential conversation: every command, the response codes
// and the error literals. Pre-login STARTTLS is left out (both answer the same; the TLS
// path is covered by TestManageSieveSieveConnect).
var manageSieveSession = []string{
	"NOOP \"tag1\"", "CAPABILITY", "LISTSCRIPTS", "AUTHENTICATE \"PLAIN\" \"AGFsaWNlAGFsaWNlcHc=\"",
	"LISTSCRIPTS", "PUTSCRIPT \"a\" {6+}\r\nkeep;\n", "PUTSCRIPT \"b\" {14+}\r\nfileinto \"x\";\n",
	"CHECKSCRIPT {18+}\r\nrequire \"nosuch\";\n", "FOO", "CHECKSCRIPT \"keep;\"", "HAVESPACE \"x\" 2000000",
	"HAVESPACE \"x\" \"10\"", "SETACTIVE \"a\"", "SETACTIVE \"a\"", "LISTSCRIPTS", "GETSCRIPT \"a\"",
	"DELETESCRIPT \"a\"", "PUTSCRIPT \"c\" \"stop;\"", "RENAMESCRIPT \"c\" \"a\"", "RENAMESCRIPT \"a\" \"d\"",
	"GETSCRIPT \"zz\"", "SETACTIVE \"nope\"", "DELETESCRIPT \"nope\"", "GETSCRIPT", "PUTSCRIPT \"x\"",
	"GETSCRIPT \"a/b\"", "SETACTIVE \"\"", "DELETESCRIPT \"d\"", "LISTSCRIPTS", "LOGOUT",
}

// runManageSieve runs the session and returns the normalised transcript: capability lines
// roost adds (UNAUTHENTICATE) dropped, LISTSCRIPTS answers sorted (directory order differs).
func runManageSieve(t testing.TB, port int) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(nc)
	var tr []string
	read := func() {
		var block []string
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("read: %v\n%s", err, strings.Join(tr, "\n"))
			}
			l = strings.TrimRight(l, "\r\n")
			if l == `"UNAUTHENTICATE"` {
				continue
			}
			final := strings.HasPrefix(l, "OK") || strings.HasPrefix(l, "NO") || strings.HasPrefix(l, "BYE")
			if i := strings.LastIndexByte(l, '{'); i >= 0 && strings.HasSuffix(l, "}") {
				var n int
				fmt.Sscanf(l[i:], "{%d}", &n)
				lit := make([]byte, n)
				if _, err := io.ReadFull(r, lit); err != nil {
					t.Fatalf("read literal: %v", err)
				}
				rest, _ := r.ReadString('\n')
				l += " " + strings.ReplaceAll(string(lit), "\r\n", "\\r\\n") + strings.TrimRight(rest, "\r\n")
			}
			if final {
				sort.Strings(block)
				tr = append(append(tr, block...), "S: "+l)
				return
			}
			block = append(block, "S: "+l)
		}
	}
	read()
	for _, c := range manageSieveSession {
		tr = append(tr, "C: "+strings.ReplaceAll(c, "\r\n", "\\r\\n"))
		fmt.Fprintf(nc, "%s\r\n", c)
		read()
	}
	return strings.Join(tr, "\n") + "\n"
}

// TestManageSieveDifferential runs one ManageSieve conversation against Debian's
// dovecot-managesieved and roost and compares the transcripts line by line.
func TestManageSieveDifferential(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	var mu sync.Mutex // guards got
	t.Cleanup(func() {
		d, r := got["dovecot"], got["roost"]
		if d == "" || r == "" {
			return
		}
		if d != r {
			t.Errorf("ManageSieve transcripts differ (-dovecot +roost):\n%s", lineDiff(d, r))
		}
	})
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			body := func(t testing.TB) {
				_, port := newManageSieveEnv(t, kind)
				tr := runManageSieve(t, port)
				mu.Lock()
				got[kind] = tr
				mu.Unlock()
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

// sievelibScript drives Python's sievelib (Debian python3-sievelib) over STARTTLS + PLAIN.
const sievelibScript = `
import sys
from sievelib.managesieve import Client
c = Client("127.0.0.1", int(sys.argv[1]))
assert c.connect("alice", "alicepw", starttls=True, authmech="PLAIN"), "login"
script = 'require ["fileinto"];\n# rule:[Dovecot]\nif header :contains "List-Id" "dovecot@dovecot.org" {\n  fileinto "INBOX/maillinglists/Dovecot";\n  stop;\n}\n'
assert c.putscript("dovecot", script), "putscript"
assert not c.putscript("bad", 'require "fileinto";\nfileinto "x"\nkeep;\n'), "bad script accepted"
print("bad:", c.errmsg.decode() if isinstance(c.errmsg, bytes) else c.errmsg)
assert c.setactive("dovecot"), "setactive"
active, others = c.listscripts()
print("list:", active, others)
assert active == "dovecot", active
assert c.getscript("dovecot") == script, "getscript round trip"
assert c.setactive(""), "deactivate"
assert c.deletescript("dovecot"), "deletescript"
active, others = c.listscripts()
assert active is None and others == [], (active, others)
c.logout()
print("ok")
`

// TestManageSieveSievelib: Python sievelib uploads (a Roundcube-style "# rule:" script
// round-trips unchanged), lists, activates, fetches and deletes; a bad script is refused
// with the line of the error.
func TestManageSieveSievelib(t *testing.T) {
	t.Parallel()
	py := need(t, "/usr/bin/python3")
	if err := exec.Command(py, "-c", "import sievelib").Run(); err != nil {
		if inCI() {
			t.Fatal("python3-sievelib not installed")
		}
		t.Skip("python3-sievelib not installed (apt-get install python3-sievelib)")
	}
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				_, port := newManageSieveEnv(t, kind)
				out, err := exec.Command(py, "-c", sievelibScript, fmt.Sprint(port)).CombinedOutput()
				if err != nil || !strings.HasSuffix(string(out), "ok\n") {
					t.Fatalf("sievelib: %v\n%s", err, out)
				}
				if !strings.Contains(string(out), "bad: line 2: error: missing semicolon") {
					t.Errorf("bad script refusal lacks the line: %s", out)
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
