package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestNotifyDelivery: a client that asked for NOTIFY and idles with no mailbox selected learns
// of an LMTP delivery into INBOX and of a dovecot-lda delivery (another process writing the same
// Maildir; roost finds it with its maildir poll) into another folder, with STATUS responses,
// from Dovecot and roost alike.
func TestNotifyDelivery(t *testing.T) {
	t.Parallel()
	forEachKind(t, notifyDelivery)
}

func notifyDelivery(t testing.TB, kind string) {
	lda := "/usr/lib/dovecot/dovecot-lda"
	if _, err := os.Stat(lda); err != nil {
		need(t, "dovecot-lda")
	}
	env := newLMTPEnv(t, withConfig("mailbox_list_index = yes\nservice auth {\n  unix_listener auth-userdb {\n    mode = 0666\n  }\n}"))
	env.makeFolder(t, "alice", "work")
	startServer(t, env.mailEnv, kind)
	if kind == "roost" {
		lda = filepath.Join(env.Dir, "dovecot-lda")
		if err := os.Symlink(needRoost(t), lda); err != nil {
			t.Fatal(err)
		}
	}
	tr := &transcript{}
	ic, err := dialRaw(fmt.Sprintf("127.0.0.1:%d", env.Port), 1, tr)
	if err != nil {
		t.Fatal(err)
	}
	defer ic.close()
	step := func(data, tag string) {
		t.Helper()
		if err := ic.send(data); err != nil {
			t.Fatal(err)
		}
		if resp, err := ic.awaitTagOrContinuation(tag); err != nil || !strings.HasPrefix(resp, "+") && !strings.HasPrefix(resp, tag+" OK") {
			t.Fatalf("%s: %q %v\n%s", kind, resp, err, tr)
		}
	}
	await := func(prefix string) {
		t.Helper()
		if _, err := ic.readUntil(func(l string) bool { return strings.HasPrefix(l, prefix) }); err != nil {
			t.Fatalf("%s: waiting for %q: %v\n%s", kind, prefix, err, tr)
		}
	}
	step("a1 LOGIN alice alicepw\r\n", "a1")
	step("a2 STATUS INBOX (MESSAGES)\r\n", "a2") // Dovecot creates INBOX on first use
	step("a3 NOTIFY SET (PERSONAL (MessageNew MessageExpunge))\r\n", "a3")
	step("a4 IDLE\r\n", "a4")

	c := dialLMTP(t, "unix", env.Socket)
	c.send("LHLO x\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice>\r\nDATA\r\n", 4)
	c.send("Subject: live\r\n\r\nx\r\n.\r\n", 1)
	// roost adds UIDVALIDITY to a mailbox's first report; Dovecot does when its list index has
	// not cached the mailbox's status (here the STATUS above did).
	await("* STATUS INBOX (MESSAGES 1 UIDNEXT 2 ")

	cmd := exec.Command(lda, "-c", env.Conf, "-d", "alice", "-m", "work")
	cmd.Stdin = strings.NewReader("Subject: by lda\n\nx\n")
	cmd.Dir = env.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(env.UID), Gid: uint32(env.GID)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s lda: %v %s", kind, err, out)
	}
	await("* STATUS work (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")
	step("DONE\r\n", "a4")
	step("a5 LOGOUT\r\n", "a5")
}
