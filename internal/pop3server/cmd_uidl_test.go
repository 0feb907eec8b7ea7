package pop3server

import (
	"context"
	"strings"
	"testing"
)

func TestUidlDefault(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	equalLines(t, "UIDL", c.multi("UIDL", "+OK"), "1 0000000166322ec0", "2 0000000266322ec0", "3 0000000366322ec0")
	c.expect("UIDL 2", "+OK 2 0000000266322ec0")
	c.expect("DELE 2", "+OK Marked to be deleted.")
	c.expect("UIDL 2", "-ERR Message is deleted.")
	equalLines(t, "UIDL", c.multi("UIDL", "+OK"), "1 0000000166322ec0", "3 0000000366322ec0")
}

func TestUidlFormats(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ format, want string }{
		{"%v.%u", "1714564800.2"},
		{"%08Xu%08Xv", "0000000266322ec0"},
		{"%u-%Xv", "2-66322ec0"},
	} {
		ts := newTestServer(t, func(o *Options) { o.UIDLFormat = tt.format })
		seedThree(ts, "alice")
		c := ts.login("alice", "secret")
		c.expect("UIDL 2", "+OK 2 "+tt.want)
	}
}

// TestUidlUnsupported: %m with a storage that has no header MD5 ends the
// session as Dovecot's Maildir does.
func TestUidlUnsupported(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.UIDLFormat = "%m" })
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.send("UIDL")
	if l := c.line(); l != "+OK" {
		t.Fatal(l)
	}
	c.expectClosed()
	log := ts.log.String()
	for _, want := range []string{"UIDL: Header MD5 not found (pop3_uidl_format=%m not supported by storage?)",
		"Disconnected: POP3 UIDLs couldn't be listed"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestReuseXUIDLAndDuplicates(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.ReuseXUIDL, o.UIDLDuplicates = true, "rename" })
	ts.appendMsg("alice", "X-UIDL: abc\r\nSubject: 1\r\n\r\nx\r\n")
	ts.appendMsg("alice", "Subject: 2\r\nx-uidl:  abc\r\n\r\nx\r\n")
	ts.appendMsg("alice", "Subject: 3\r\n\r\nX-UIDL: body\r\n")
	c := ts.login("alice", "secret")
	equalLines(t, "UIDL", c.multi("UIDL", "+OK"), "1 abc", "2 abc-2", "3 0000000366322ec0")
}

func TestLogoutFormat(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) {
		o.LogoutFormat = "%{session} in=%i u=%u"
	})
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.multi("UIDL", "+OK")
	c.multi("RETR 2", "+OK 58 octets")
	c.expect("DELE 2", "+OK Marked to be deleted.")
	c.expect("QUIT", "+OK Logging out, messages deleted.")
	c.expectClosed()
	ts.srv.Shutdown(context.Background())
	log := ts.log.String()
	if !strings.Contains(log, "Disconnected: Logged out ") || !strings.Contains(log, " u=1/") || !strings.Contains(log, " -> 2/") {
		t.Errorf("log:\n%s", log)
	}
}
