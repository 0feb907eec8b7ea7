package imapserver

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

func TestIdle(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a SELECT INBOX").ok()
		c.send("b IDLE")
		c.expect("+ idling")
		ts.appendMsg("alice", "INBOX", testMsg)
		c.expect("* 1 EXISTS")
		c.expect("* 1 RECENT")
		c.send("DONE")
		c.collect("b").status("OK Idle completed.")

		c.send("c IDLE")
		c.expect("+ idling")
		c.send("FOO")
		c.collect("c").status("BAD Expected DONE.")

		// IDLE without a selected mailbox only waits.
		c.cmd("d UNSELECT").ok()
		c.send("e IDLE")
		c.expect("+ idling")
		c.send("done")
		c.collect("e").ok()
	})
}

func TestIdleKeepalive(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t)
		c := ts.login()
		c.cmd("a SELECT INBOX").ok()
		c.send("b IDLE")
		c.expect("+ idling")
		time.Sleep(DefaultIdleNotifyInterval + time.Second)
		c.expect("* OK Still here")
		c.send("DONE")
		c.collect("b").ok()
		c.cmd("c LOGOUT").ok()
		c.expectClosed()
	})
}

func TestAutologout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t)
		c, _ := ts.dial()
		time.Sleep(DefaultLoginTimeout + time.Second)
		c.expect("* BYE Disconnected for inactivity.")
		c.expectClosed()

		c = ts.login()
		time.Sleep(DefaultAutologout - time.Minute)
		c.cmd("a NOOP").ok() // activity resets the timer
		time.Sleep(DefaultAutologout - time.Minute)
		c.cmd("b NOOP").ok()
		time.Sleep(DefaultAutologout + time.Second)
		c.expect("* BYE Disconnected for inactivity.")
		c.expectClosed()
	})
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	idle := ts.login()
	idle.cmd("a SELECT INBOX").ok()
	idle.send("b IDLE")
	idle.expect("+ idling")
	waiting := ts.login()
	pre, _ := ts.dial()

	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	idle.expect("* BYE Server shutting down.")
	idle.expectClosed()
	waiting.expect("* BYE Server shutting down.")
	waiting.expectClosed()
	pre.expect("* BYE Server shutting down.")
	pre.expectClosed()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestWriteTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t)
		cli, srv := net.Pipe()
		ts.srv.ServeConn(srv)
		defer cli.Close()
		// The client never reads: the greeting cannot be written.
		time.Sleep(DefaultWriteTimeout + time.Second)
		synctest.Wait()
		n := ts.srv.conns.Len()
		if n != 0 {
			t.Fatalf("%d connections still open", n)
		}
	})
}

// TestIdleImmediate: new and expunged messages are announced at once;
// only flag changes wait idleNotifyDelay (measured on synctest's clock).
func TestIdleImmediate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ts := newTestServer(t)
		ts.appendMsg("alice", "INBOX", testMsg)
		c := ts.login()
		c.cmd("a SELECT INBOX").ok()
		other := ts.login()
		other.cmd("o1 SELECT INBOX").ok()
		c.send("b IDLE")
		c.expect("+ idling")
		start := time.Now()
		ts.appendMsg("alice", "INBOX", testMsg)
		c.expect("* 2 EXISTS")
		if d := time.Since(start); d != 0 {
			t.Errorf("EXISTS after %v, want at once", d)
		}
		c.expect("* 2 RECENT")
		start = time.Now()
		other.cmd("o2 STORE 1 +FLAGS (\\Flagged)").ok()
		c.expect("* 1 FETCH (FLAGS (\\Flagged \\Recent))")
		if d := time.Since(start); d != idleNotifyDelay {
			t.Errorf("flag change after %v, want %v", d, idleNotifyDelay)
		}
		start = time.Now()
		other.cmd("o3 STORE 1 +FLAGS.SILENT (\\Deleted)").ok()
		other.cmd("o4 EXPUNGE").ok()
		c.expect("* 1 EXPUNGE")
		if d := time.Since(start); d != 0 {
			t.Errorf("EXPUNGE after %v, want at once", d)
		}
		c.send("DONE")
		c.collect("b").ok()
		c.cmd("c LOGOUT").ok()
		other.cmd("o5 LOGOUT").ok()
	})
}
