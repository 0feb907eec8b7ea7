package imapserver

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPythonImaplibUTF8Accept runs Python's imaplib against the server:
// ENABLE UTF8=ACCEPT, then UTF-8 mailbox names in CREATE, LIST, STATUS,
// SELECT, RENAME and DELETE, APPEND of a message with UTF-8 headers (in
// imaplib's form) and SEARCH without and with CHARSET
// (testdata/clients/utf8accept_imaplib.py).
func TestPythonImaplibUTF8Accept(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is required under CI")
		}
		t.Skip("python3 not installed")
	}
	ts := newTestServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback listener: %v", err)
	}
	served := make(chan error, 1)
	go func() { served <- ts.srv.Serve(l) }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ts.srv.Shutdown(ctx)
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve = %v", err)
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "testdata/clients/utf8accept_imaplib.py",
		"127.0.0.1", port, "alice", "secret").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "imaplib utf8: ok") {
		t.Fatalf("imaplib: %v\n%s", err, out)
	}
}
