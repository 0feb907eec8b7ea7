// Package dovecottest starts a private Dovecot 2.3 on loopback for the
// tests that record its answers as an oracle (the -*.generate tests), and
// writes the recorded oracle files. It is imported only from _test.go
// files.
package dovecottest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Binary is Debian's Dovecot.
const Binary = "/usr/sbin/dovecot"

// User and Password are the one account of an instance.
const (
	User     = "oracle"
	Password = "secret"
)

// Options adjust an instance.
type Options struct {
	// Env is added to Dovecot's environment, e.g. "TZ=UTC".
	Env []string
}

// StartIMAP runs a private Dovecot serving IMAP with Maildir on a free
// loopback port, as the current user (as root: with the mail owned by
// nobody), and returns its address. The instance is stopped, and its
// directory removed, when the test ends; a failed test logs its log.
func StartIMAP(t *testing.T, o Options) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "roost-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Logf("dovecot log:\n%s", log)
		}
		os.RemoveAll(dir)
	})
	port := freePort(t)
	uid, gid := mailOwner(t, dir)
	conf := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(conf, []byte(imapConf(dir, port, uid, gid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte(User+":{PLAIN}"+Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Binary, "-F", "-c", conf)
	cmd.Env = append(os.Environ(), o.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		<-exited
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Dovecot gives no readiness signal but its log; poll the port (the
	// generators are tools, not tests of timing).
	for i := 0; ; i++ {
		nc, err := net.Dial("tcp", addr)
		if err == nil {
			nc.Close()
			return addr
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("dovecot exited: %v\n%s%s", err, stderr.Bytes(), log)
		case <-time.After(20 * time.Millisecond):
		}
		if i > 500 {
			t.Fatalf("dovecot did not listen on %s", addr)
		}
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// mailOwner returns the uid/gid that owns the test mail: the current
// user, or nobody when running as root (Dovecot refuses uid 0 for mail),
// and makes dir/home for it.
func mailOwner(t *testing.T, dir string) (int, int) {
	t.Helper()
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Fatalf("root needs user nobody for the mail: %v", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	home := filepath.Join(dir, "home")
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	return uid, gid
}

func imapConf(dir string, port, uid, gid int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "protocols = imap\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n")
	fmt.Fprintf(&b, "base_dir = %s/run\nstate_dir = %s/state\nlog_path = %s/dovecot.log\n", dir, dir, dir)
	fmt.Fprintf(&b, "mail_location = maildir:~/Maildir\n")
	if os.Getuid() == 0 {
		// Login processes refuse to run as root: use Debian's
		// unprivileged login user.
		b.WriteString("default_internal_user = root\ndefault_login_user = dovenull\nfirst_valid_uid = 0\n")
	} else {
		u := os.Getenv("USER")
		fmt.Fprintf(&b, "default_internal_user = %s\ndefault_login_user = %s\n", u, u)
	}
	fmt.Fprintf(&b, "passdb {\n  driver = passwd-file\n  args = %s/passwd\n}\n", dir)
	fmt.Fprintf(&b, "userdb {\n  driver = static\n  args = uid=%d gid=%d home=%s/home/%%u\n}\n", uid, gid, dir)
	fmt.Fprintf(&b, "service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = %d\n  }\n"+
		"  inet_listener imaps {\n    port = 0\n  }\n}\n", port)
	return b.String()
}

// WriteOracle writes recs to path as gzip-compressed JSON lines, the
// format of the recorded oracle files, creating path's directory.
func WriteOracle[T any](path string, recs []T) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			return fmt.Errorf("write oracle: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write oracle: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
