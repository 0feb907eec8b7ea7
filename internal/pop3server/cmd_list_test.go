package pop3server

import (
	"testing"
)

func TestListStatNoop(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.expect("STAT", "+OK 3 180")
	equalLines(t, "LIST", c.multi("LIST", "+OK 3 messages:"), "1 67", "2 58", "3 55")
	c.expect("LIST 3", "+OK 3 55")
	c.expect("LIST 0", "-ERR There's no message 0.")
	c.expect("LIST x", "-ERR Invalid message number: x")
	c.expect("LIST 1x", "-ERR Noise after message number: x")
	c.expect("NOOP", "+OK")
	c.expect("noop anything", "+OK")
	c.expect("LAST", "-ERR Unknown command: LAST")
	c.expect("FOO bar", "-ERR Unknown command: FOO")
}

func TestLast(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.EnableLast = true })
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.expect("LAST", "+OK 0")
	c.multi("RETR 2", "+OK 58 octets")
	c.expect("LAST", "+OK 2")
}

func TestBadCommandLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login("alice", "secret")
	for i := 0; i < MaxBadCommands; i++ {
		c.expect("FOO", "-ERR Unknown command: FOO")
	}
	c.send("FOO")
	if l := c.line(); l != "-ERR Unknown command: FOO" {
		t.Fatal(l)
	}
	if l := c.line(); l != "-ERR Too many bad commands." {
		t.Fatal(l)
	}
	c.expectClosed()
}

// TestPipelining: RFC 2449 PIPELINING, answers in order.
func TestPipelining(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c, _ := ts.dial()
	go c.nc.Write([]byte("USER alice\r\nPASS secret\r\nSTAT\r\nLIST 1\r\nUIDL 1\r\nQUIT\r\n"))
	for _, want := range []string{"+OK", "+OK Logged in.", "+OK 3 180", "+OK 1 67", "+OK 1 0000000166322ec0", "+OK Logging out."} {
		if l := c.line(); l != want {
			t.Fatalf("got %q, want %q", l, want)
		}
	}
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login("alice", "secret")
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(t.Context()) }()
	if l := c.line(); l != "-ERR [SYS/TEMP] Server shutting down." {
		t.Fatal(l)
	}
	c.expectClosed()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
