package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrivilegeDrop: started as root, roost binds its listeners and then
// runs as the mail user for good: real, effective, saved and filesystem
// ids, and no supplementary root group (DESIGN.md section 2).
func TestPrivilegeDrop(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("not running as root: nothing to drop")
	}
	env := newMailEnv(t)
	s := startServer(t, env, "roost")
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Uid:": fmt.Sprintf("%d\t%d\t%d\t%d", env.UID, env.UID, env.UID, env.UID),
		"Gid:": fmt.Sprintf("%d\t%d\t%d\t%d", env.GID, env.GID, env.GID, env.GID),
	}
	for _, line := range strings.Split(string(status), "\n") {
		key, val, _ := strings.Cut(line, "\t")
		if w, ok := want[strings.TrimSpace(key)]; ok && strings.TrimSpace(val) != w {
			t.Errorf("%s %q, want %q", key, val, w)
		}
		if strings.HasPrefix(line, "Groups:") {
			for _, g := range strings.Fields(strings.TrimPrefix(line, "Groups:")) {
				if g == "0" {
					t.Errorf("still in group 0: %q", line)
				}
			}
		}
	}
	// And it still serves mail, now as that user.
	c := dialIMAP(t, s.Addr(), "alice", "alicepw")
	c.must("SELECT INBOX")
	fi, err := os.Stat(env.Maildir("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != env.UID {
		t.Errorf("Maildir owned by uid %d, want %d", st.Uid, env.UID)
	}
}

// TestGracefulStop: SIGTERM lets a session in IDLE end with "* BYE" and
// the process exit 0, as `dovecot stop` does.
func TestGracefulStop(t *testing.T) {
	t.Parallel()
	env := newMailEnv(t)
	s := startServer(t, env, "roost")
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	expect := func(prefix string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
		}
	}
	expect("* OK")
	fmt.Fprintf(conn, "a LOGIN alice alicepw\r\nb SELECT INBOX\r\nc IDLE\r\n")
	expect("+ ")
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	expect("* BYE")
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatal("roost did not exit after SIGTERM")
	}
	if s.err != nil {
		t.Errorf("exit status: %v", s.err)
	}
}
