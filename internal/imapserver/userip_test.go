package imapserver

import (
	"strings"
	"testing"
)

// TestMaxUserIPConnections: the login past mail_max_userip_connections
// gets Dovecot's tagged NO [LIMIT] and the connection closes; logging
// out frees the slot; another user is counted apart.
func TestMaxUserIPConnections(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.MaxUserIPConnections = 2 })
	a1, a2 := ts.login(), ts.login()
	c, _ := ts.dial()
	c.cmd("L LOGIN alice secret").status("NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=2)")
	c.expectClosed()
	if !strings.Contains(ts.log.String(), "imap-login: Info: Disconnected: Maximum number of connections from user+IP exceeded "+
		"(mail_max_userip_connections=2): user=<alice>, method=PLAIN, rip=, lip=, session=<") {
		t.Fatalf("no disconnect line:\n%s", ts.log.String())
	}
	b, _ := ts.dial()
	b.cmd("B LOGIN bob hunter2").ok()
	a1.cmd("X LOGOUT").ok()
	a1.expectClosed()
	a3, _ := ts.dial()
	a3.cmd("A AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==").ok()
	a4, _ := ts.dial()
	a4.cmd("A AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==").status("NO [LIMIT]")
	a4.expectClosed()
	a2.cmd("Y NOOP").ok()
}

// TestUserIPCounterShared: two Servers given one counter count together
// (the imap and imaps listeners of one process), and a negative limit
// never refuses.
func TestUserIPCounterShared(t *testing.T) {
	t.Parallel()
	shared := NewUserIPCounter()
	mod := func(o *Options) { o.MaxUserIPConnections, o.UserIPCounter = 1, shared }
	ts1, ts2 := newTestServer(t, mod), newTestServer(t, mod)
	ts1.login()
	c, _ := ts2.dial()
	c.cmd("L LOGIN alice secret").status("NO [LIMIT]")
	k := userIP{user: "alice"}
	if n := shared.count(k); n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
	unlimited := newTestServer(t, func(o *Options) { o.MaxUserIPConnections = UserIPLimit(0) })
	for range DefaultMaxUserIPConnections + 1 {
		unlimited.login()
	}
	if got := UserIPLimit(0); got >= 0 {
		t.Fatalf("UserIPLimit(0) = %d, want no limit", got)
	}
	if got := UserIPLimit(10); got != 10 {
		t.Fatalf("UserIPLimit(10) = %d", got)
	}
}

// TestMaxUserIPConnectionsDefault: the zero Options allow Dovecot's 10.
func TestMaxUserIPConnectionsDefault(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	for range DefaultMaxUserIPConnections {
		ts.login()
	}
	c, _ := ts.dial()
	c.cmd("L LOGIN alice secret").status("NO [LIMIT] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=10)")
}
