package pop3server

import (
	"strings"
	"testing"
)

func TestGreetingAndUserPass(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, greeting := ts.dial()
	if greeting != "+OK Dovecot ready." {
		t.Fatalf("greeting %q", greeting)
	}
	c.expect("PASS x", "-ERR No username given.")
	c.expect("USER alice", "+OK")
	c.expect("PASS wrong", "-ERR [AUTH] Authentication failed.")
	c.expect("STAT", "-ERR Unknown command.")
	c.expect("USER alice", "+OK")
	c.expect("PASS secret", "+OK Logged in.")
	c.expect("USER alice", "-ERR Unknown command: USER")
	c.expect("QUIT", "+OK Logging out.")
	c.expectClosed()
	log := ts.log.String()
	for _, want := range []string{"pop3-login: Info: Login: user=<alice>, method=PLAIN",
		"Disconnected: Logged out top=0/0, retr=0/0, del=0/0, size=0"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestNologinReason(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.expect("USER gone", "+OK")
	c.expect("PASS pw", "-ERR [AUTH] Moved")
}

func TestLoginBadCommandLimit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.send("") // ignored
	c.expect("FOO", "-ERR Unknown command.")
	c.expect("BAR", "-ERR Unknown command.")
	c.send("BAZ")
	if l := c.line(); l != "-ERR Unknown command." {
		t.Fatal(l)
	}
	if l := c.line(); l != "-ERR Too many invalid bad commands." {
		t.Fatal(l)
	}
	c.expectClosed()
}

func TestQuitBeforeLogin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.expect("quit", "+OK Logging out")
	c.expectClosed()
	if !strings.Contains(ts.log.String(), "Disconnected: Aborted login by logging out (no auth attempts)") {
		t.Errorf("log:\n%s", ts.log.String())
	}
}

func TestPlaintextDisallowed(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.Auth = newLogin(t, false) })
	c, _ := ts.dial()
	caps := c.multi("CAPA", "+OK")
	equalLines(t, "CAPA", caps, "CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "SASL")
	c.expect("USER alice", "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
	c.expect("AUTH PLAIN", "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.")
}

func TestTooLongLine(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.appendMsg("alice", "Subject: x\r\n\r\nx\r\n")
	c := ts.login("alice", "secret")
	c.send("NOOP " + strings.Repeat("x", MaxLineLength))
	if l := c.line(); l != "-ERR Input line too long." {
		t.Fatal(l)
	}
	c.expectClosed()
}

func TestLockSession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.LockSession = true })
	c1 := ts.login("alice", "secret")
	c2, _ := ts.dial()
	c2.expect("USER alice", "+OK")
	c2.expect("PASS secret", "-ERR [IN-USE] Mailbox is locked by another POP3 session.")
	c2.expectClosed()
	c1.expect("QUIT", "+OK Logging out.")
	c1.expectClosed()
	ts.login("alice", "secret").expect("QUIT", "+OK Logging out.")
}
