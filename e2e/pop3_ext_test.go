package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// POP3 features that need the storage's help: %f/%g in pop3_uidl_format, pop3_save_uidl's
// "P" fields in dovecot-uidlist, and pop3_lock_session's dovecot-pop3-session.lock shared
// with Dovecot.

// TestPOP3UIDLFileNameGUID: with pop3_uidl_format = %f|%g|%v.%u Dovecot and then roost list
// the same UIDLs for the same Maildir.
func TestPOP3UIDLFileNameGUID(t *testing.T) {
	t.Parallel()
	e := newPOP3Env(t, "protocol pop3 {\n  pop3_uidl_format = %f|%g|%v.%u\n}")
	seedMaildir(t, e, "bob")
	cmds := []string{"USER bob", "PASS bobpw", "UIDL", "UIDL 2", "QUIT"}
	var dovecot string
	if _, err := os.Stat("/usr/sbin/dovecot"); err == nil || inCI() {
		srv := startServer(t, e.mailEnv, "dovecot")
		dovecot = pop3Session(t, e.POP3Addr(), cmds)
		srv.stop(t)
		if !strings.Contains(dovecot, "S: 1 1700000000.M1P1.host|1700000000.M1P1.host|") {
			t.Fatalf("Dovecot's %%f|%%g UIDLs are not the file names:\n%s", dovecot)
		}
	}
	roostCase(t, func(t testing.TB) {
		srv := startServer(t, e.mailEnv, "roost")
		got := pop3Session(t, e.POP3Addr(), cmds)
		srv.stop(t)
		if dovecot != "" && got != dovecot {
			t.Errorf("roost differs from Dovecot on the same Maildir: -dovecot +roost\n%s", lineDiff(dovecot, got))
		}
		if !strings.Contains(got, "S: 3 1700000002.M3P1.host|1700000002.M3P1.host|") {
			t.Errorf("roost's UIDLs:\n%s", got)
		}
	})
}

var (
	reUidlistHeader = regexp.MustCompile(`(?m)^3 V\d+ N(\d+) G[0-9a-f]+$`)
	reUIDVInP       = regexp.MustCompile(` P\d+\.`)
	reSizeExt       = regexp.MustCompile(` [SW]\d+`)
)

// savedUIDLs runs a UIDL session with pop3_save_uidl on a fresh store and returns
// dovecot-uidlist with the UIDVALIDITY and GUID masked and the size fields dropped (the
// Maildir driver's business: roost records S beside W for a file name without sizes, Dovecot
// only W).
func savedUIDLs(t testing.TB, kind string) string {
	e := newPOP3Env(t, "protocol pop3 {\n  pop3_uidl_format = %v.%u\n  pop3_save_uidl = yes\n}")
	seedMaildir(t, e, "bob")
	srv := startServer(t, e.mailEnv, kind)
	tr := pop3Session(t, e.POP3Addr(), []string{"USER bob", "PASS bobpw", "UIDL", "QUIT"})
	srv.stop(t)
	if !strings.Contains(tr, "S: +OK Logging out.") {
		t.Fatalf("%s: session:\n%s", kind, tr)
	}
	b, err := os.ReadFile(filepath.Join(e.Maildir("bob"), "dovecot-uidlist"))
	if err != nil {
		t.Fatal(err)
	}
	s := reUidlistHeader.ReplaceAllString(string(b), "3 V<V> N$1 G<G>")
	s = reSizeExt.ReplaceAllString(s, "")
	return reUIDVInP.ReplaceAllString(s, " P<V>.")
}

// TestPOP3SaveUIDL: pop3_save_uidl writes the same "P" fields into dovecot-uidlist as Dovecot
// does, and a UIDL saved by either server is what the other lists after pop3_uidl_format
// changed.
func TestPOP3SaveUIDL(t *testing.T) {
	t.Parallel()
	var dovecot string
	t.Run("uidlist", func(t *testing.T) {
		if _, err := os.Stat("/usr/sbin/dovecot"); err == nil || inCI() {
			dovecot = savedUIDLs(t, "dovecot")
		}
		roostCase(t, func(t testing.TB) {
			got := savedUIDLs(t, "roost")
			if !strings.Contains(got, "1 P<V>.1 :1700000000.M1P1.host") {
				t.Errorf("roost saved no P field:\n%s", got)
			}
			if dovecot != "" && got != dovecot {
				t.Errorf("dovecot-uidlist differs: -dovecot +roost\n%s", lineDiff(dovecot, got))
			}
		})
	})
	for _, order := range [][2]string{{"dovecot", "roost"}, {"roost", "dovecot"}} {
		t.Run(order[0]+"-then-"+order[1], func(t *testing.T) {
			t.Parallel()
			roostCase(t, func(t testing.TB) {
				e := newPOP3Env(t, "protocol pop3 {\n  pop3_uidl_format = %v.%u\n  pop3_save_uidl = yes\n}")
				seedMaildir(t, e, "bob")
				srv := startServer(t, e.mailEnv, order[0])
				first := pop3Session(t, e.POP3Addr(), []string{"USER bob", "PASS bobpw", "UIDL", "QUIT"})
				srv.stop(t)
				// A new format: the saved UIDLs must still be listed.
				conf, _ := os.ReadFile(e.Conf)
				os.WriteFile(e.Conf, []byte(strings.Replace(string(conf), "pop3_uidl_format = %v.%u", "pop3_uidl_format = %u-%08Xv", 1)), 0o644)
				srv = startServer(t, e.mailEnv, order[1])
				second := pop3Session(t, e.POP3Addr(), []string{"USER bob", "PASS bobpw", "UIDL", "QUIT"})
				srv.stop(t)
				if first != second {
					t.Errorf("UIDLs saved by %s not listed by %s: -first +second\n%s", order[0], order[1], lineDiff(first, second))
				}
			})
		})
	}
}

// TestPOP3SessionLockShared: with pop3_lock_session, a Dovecot POP3 session and a roost one
// on the same Maildir exclude each other in both directions (each waits its ten seconds, then
// answers [IN-USE]); after QUIT the other gets in, and no lock file is left behind.
func TestPOP3SessionLockShared(t *testing.T) {
	t.Parallel()
	need(t, "dovecot")
	roostCase(t, func(t testing.TB) {
		lock := "protocol pop3 {\n  pop3_lock_session = yes\n}"
		de := newPOP3Env(t, lock)
		seedMaildir(t, de, "bob")
		re := newPOP3Env(t, lock)
		// Both installations serve one home directory.
		os.RemoveAll(filepath.Join(re.Dir, "home"))
		if err := os.Symlink(filepath.Join(de.Dir, "home"), filepath.Join(re.Dir, "home")); err != nil {
			t.Fatal(err)
		}
		dsrv := startServer(t, de.mailEnv, "dovecot")
		rsrv := startServer(t, re.mailEnv, "roost")
		lockPath := filepath.Join(de.Maildir("bob"), "dovecot-pop3-session.lock")
		for _, holder := range []struct{ kind, addr, other string }{
			{"dovecot", de.POP3Addr(), re.POP3Addr()},
			{"roost", re.POP3Addr(), de.POP3Addr()},
		} {
			h := dialPOP3(t, holder.addr)
			h.cmd("USER bob", "+OK")
			h.cmd("PASS bobpw", "+OK Logged in.")
			if _, err := os.Stat(lockPath); err != nil {
				t.Fatalf("%s holds no lock file: %v", holder.kind, err)
			}
			tr := pop3Session(t, holder.other, []string{"USER bob", "PASS bobpw"})
			if !strings.Contains(tr, "S: -ERR [IN-USE] Mailbox is locked by another POP3 session.") {
				t.Errorf("a second session while %s holds the lock:\n%s", holder.kind, tr)
			}
			h.cmd("QUIT", "+OK Logging out.")
			h.close()
			tr = pop3Session(t, holder.other, []string{"USER bob", "PASS bobpw", "STAT", "QUIT"})
			if !strings.Contains(tr, "S: +OK 3 ") {
				t.Errorf("after %s's QUIT:\n%s", holder.kind, tr)
			}
		}
		dsrv.stop(t)
		rsrv.stop(t)
		if _, err := os.Stat(lockPath); !os.IsNotExist(err) {
			t.Errorf("lock file left after the sessions: %v", err)
		}
	})
}

// pop3Conn is a POP3 connection held open across other sessions.
type pop3Conn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

func dialPOP3(t testing.TB, addr string) *pop3Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(time.Minute))
	c := &pop3Conn{t: t, nc: nc, br: bufio.NewReader(nc)}
	c.expect("+OK")
	return c
}

func (c *pop3Conn) expect(prefix string) {
	c.t.Helper()
	l, err := c.br.ReadString('\n')
	if err != nil || !strings.HasPrefix(l, prefix) {
		c.t.Fatalf("want %q, got %q (%v)", prefix, l, err)
	}
}

// cmd sends a single-line command and checks the reply's start.
func (c *pop3Conn) cmd(line, prefix string) {
	c.t.Helper()
	fmt.Fprintf(c.nc, "%s\r\n", line)
	c.expect(prefix)
}

func (c *pop3Conn) close() { c.nc.Close() }
