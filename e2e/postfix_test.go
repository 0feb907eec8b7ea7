package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// postfix is a private Postfix instance (its own config_directory, queue and loopback
// SMTP port), started and stopped by the test; the system's Postfix is not used.
type postfix struct {
	dir  string // holds conf/, queue/, data/, maillog
	port int    // smtpd on 127.0.0.1
}

func (p *postfix) conf() string { return filepath.Join(p.dir, "conf") }

// startPostfix writes main.cf/master.cf delivering example.net through transport
// (e.g. "lmtp:unix:/path" or "dovecot") and starts the instance.
func startPostfix(t testing.TB, env *lmtpEnv, transport, ldaPath string) *postfix {
	t.Helper()
	bin := need(t, "postfix")
	if os.Geteuid() != 0 {
		t.Skip("a private Postfix instance needs root")
	}
	if _, err := user.Lookup("postfix"); err != nil {
		need(t, "postfix-user") // skips (fails under CI) with the reason
	}
	p := &postfix{dir: filepath.Join(env.Dir, "postfix"), port: freePort(t)}
	for _, d := range []string{p.conf(), filepath.Join(p.dir, "queue"), filepath.Join(p.dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	pu, _ := user.Lookup("postfix")
	puid, _ := strconv.Atoi(pu.Uid)
	pgid, _ := strconv.Atoi(pu.Gid)
	os.Chown(filepath.Join(p.dir, "data"), puid, pgid)
	mailUser, err := user.LookupId(fmt.Sprint(env.UID))
	if err != nil {
		t.Fatal(err)
	}
	mainCf := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.org
mydomain = example.org
myorigin = example.org
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtputf8_enable = no
biff = no
default_transport = error:no outbound mail in tests
virtual_mailbox_domains = example.net
virtual_transport = %[2]s
dovecot_destination_recipient_limit = 1
`, p.dir, transport)
	masterCf := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
lmtp      unix - - n - - lmtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
dovecot   unix - n n - - pipe
  flags=DRhu user=%s argv=%s -c %s -f ${sender} -d ${user}
`, p.port, mailUser.Username, ldaPath, env.Conf)
	os.WriteFile(filepath.Join(p.conf(), "main.cf"), []byte(mainCf), 0o644)
	os.WriteFile(filepath.Join(p.conf(), "master.cf"), []byte(masterCf), 0o644)
	out, err := exec.Command(bin, "-c", p.conf(), "start").CombinedOutput()
	if err != nil {
		t.Fatalf("postfix start: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(bin, "-c", p.conf(), "stop").Run()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(p.dir, "maillog"))
			t.Logf("postfix maillog:\n%s", tail(string(log), 40))
		}
	})
	return p
}

// waitFor polls cond (Postfix delivers asynchronously) until it holds or time is up.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond) // polling an outside process, not waiting for an event of ours
	}
}

// TestPostfixDelivery: mail submitted to a real Postfix with swaks reaches roost over LMTP
// (virtual_transport = lmtp:unix:...) or through a pipe transport to roost invoked as
// dovecot-lda; the unknown recipient bounces back to the sender (who is a local user, so
// the bounce arrives over the same path) and the known one is stored once.
func TestPostfixDelivery(t *testing.T) {
	t.Parallel()
	swaks := need(t, "swaks")
	roostBin := needRoost(t)
	for _, mode := range []string{"lmtp", "pipe"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			env := newLMTPEnv(t)
			startServer(t, env.mailEnv, "roost")
			lda := filepath.Join(env.Dir, "dovecot-lda")
			if err := os.Symlink(roostBin, lda); err != nil {
				t.Fatal(err)
			}
			transport := "lmtp:unix:" + env.Socket
			if mode == "pipe" {
				transport = "dovecot"
			}
			p := startPostfix(t, env, transport, lda)
			out, err := runClient(t, nil, swaks, "--server", "127.0.0.1", "--port", fmt.Sprint(p.port),
				"--from", "bob@example.net", "--to", "alice@example.net,nobody@example.net",
				"--header", "Subject: via postfix "+mode, "--body", "hello", "--silent", "2")
			if err != nil {
				t.Fatalf("swaks: %v\n%s", err, out)
			}
			waitFor(t, "alice's message and bob's bounce", func() bool {
				return len(env.stored(t, "alice", "")) == 1 && len(env.stored(t, "bob", "")) == 1
			})
			got := env.stored(t, "alice", "")[0]
			if headerValue(got, "Subject") != "via postfix "+mode || !strings.Contains(got, "Delivered-To: alice@example.net") {
				t.Errorf("alice's message:\n%s", got)
			}
			bounce := env.stored(t, "bob", "")[0]
			if !strings.Contains(bounce, "nobody@example.net") || !strings.Contains(bounce, "MAILER-DAEMON") {
				t.Errorf("bob's bounce:\n%s", bounce)
			}
			if mode == "lmtp" && !strings.Contains(bounce, "550 5.1.1") {
				t.Errorf("bounce does not carry roost's per-recipient 550 5.1.1:\n%s", bounce)
			}
		})
	}
}
