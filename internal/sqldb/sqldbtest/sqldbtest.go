// Package sqldbtest starts private PostgreSQL and MariaDB servers for
// tests: each in its own temporary directory, listening on a loopback
// port and a unix socket of its own, run as the distribution's service
// account when the tests run as root, and stopped when the test ends. The
// system's own instances are never touched.
//
// A missing server binary skips the test with a one-line reason, or fails
// it when CI=true.
package sqldbtest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartTimeout bounds a server's start-up, initialisation included.
const StartTimeout = 90 * time.Second

// Server is one running private database server.
type Server struct {
	Dir      string // temporary directory holding data, socket and log
	Port     int    // loopback TCP port
	Socket   string // unix socket path (MariaDB) or directory (PostgreSQL)
	User     string // an account with every privilege on DBName
	Password string
	DBName   string

	cmd  *exec.Cmd
	stop syscall.Signal // shutdown signal; PostgreSQL's fast shutdown is SIGINT
	log  *bytes.Buffer
	done chan struct{}
	once sync.Once
}

// Missing skips (or under CI=true fails) a test that needs something
// absent.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Stop ends the server and waits for it (idempotent): tests of a backend
// that went away call it early.
func (s *Server) Stop() {
	s.once.Do(func() {
		sig := s.stop
		if sig == 0 {
			sig = syscall.SIGTERM
		}
		syscall.Kill(-s.cmd.Process.Pid, sig)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// account returns the credentials to run a server as: the service account
// when running as root, else nil (the current user).
func account(t testing.TB, name string) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		Missing(t, "no %s account to run the server as: %v", name, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// tempDir makes a directory the server account can own.
func tempDir(t testing.TB, prefix string, cred *syscall.Credential) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// run runs a set-up command to completion as cred.
func run(t testing.TB, cred *syscall.Credential, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(name), err, out)
	}
}

// start launches the server process in its own process group.
func start(t testing.TB, s *Server, cred *syscall.Credential, name string, args ...string) {
	t.Helper()
	s.log, s.done = &bytes.Buffer{}, make(chan struct{})
	s.cmd = exec.Command(name, args...)
	s.cmd.Dir = s.Dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", filepath.Base(name), err)
	}
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.Stop)
}

// waitReady polls ping until it succeeds, the server exits or
// StartTimeout passes.
func (s *Server) waitReady(t testing.TB, ping func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(StartTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("database server exited during start-up:\n%s", s.log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		last = ping(ctx)
		cancel()
		if last == nil {
			return
		}
		select {
		case <-s.done:
		case <-time.After(50 * time.Millisecond): // poll interval, not a wait for an event
		}
	}
	t.Fatalf("database server not ready after %v: %v\n%s", StartTimeout, last, s.log)
}

// Exec runs statements on an admin connection.
func Exec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
