package pop3server

import (
	"slices"
	"testing"

	"roost/internal/storage"
)

const (
	msgDots   = "From: a@example.org\nSubject: one\n\nhello\n.dot line\n..two\nend\n"
	msgLong   = "From: b@example.org\r\nSubject: two\r\n\r\nline1\r\nline2\r\nline3\r\n"
	msgNoEOL  = "From: c@example.org\nSubject: three\n\nno final newline"
	sizeDots  = 67 // CRLF sizes
	sizeLong  = 58
	sizeNoEOL = 55
)

func seedThree(ts *testServer, user string) {
	ts.appendMsg(user, msgDots)
	ts.appendMsg(user, msgLong)
	ts.appendMsg(user, msgNoEOL)
}

func TestRetr(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	equalLines(t, "RETR 1", c.multi("RETR 1", "+OK 67 octets"),
		"From: a@example.org", "Subject: one", "", "hello", "..dot line", "...two", "end")
	equalLines(t, "RETR 3", c.multi("RETR 3", "+OK 55 octets"),
		"From: c@example.org", "Subject: three", "", "no final newline")
	c.expect("RETR 4", "-ERR There's no message 4.")
	c.expect("RETR", "-ERR Invalid message number: ")
	c.expect("RETR 1 2", "-ERR Noise after message number:  2")
	c.expect("RETR 99999999999", "-ERR Message number too large: 99999999999")
}

func TestTop(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	equalLines(t, "TOP 2 0", c.multi("TOP 2 0", "+OK"), "From: b@example.org", "Subject: two", "")
	equalLines(t, "TOP 2 2", c.multi("TOP 2 2", "+OK"), "From: b@example.org", "Subject: two", "", "line1", "line2")
	equalLines(t, "TOP 1 9", c.multi("TOP 1 9", "+OK"),
		"From: a@example.org", "Subject: one", "", "hello", "..dot line", "...two", "end")
	c.expect("TOP 2", "-ERR Noise after message number: ")
	c.expect("TOP 2 x", "-ERR Invalid size: x")
	c.expect("TOP 2 1 1", "-ERR Noise after size:  1")
	c.expect("QUIT", "+OK Logging out.")
	c.expectClosed()
	for _, m := range ts.inbox("alice") {
		if slices.Contains(m.Flags, storage.FlagSeen) {
			t.Errorf("TOP marked UID %d \\Seen", m.UID)
		}
	}
}

func seenUIDs(ts *testServer, user string) []uint32 {
	var out []uint32
	for _, m := range ts.inbox(user) {
		if slices.Contains(m.Flags, storage.FlagSeen) {
			out = append(out, m.UID)
		}
	}
	return out
}

func TestRetrMarksSeenAtQuit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.multi("RETR 1", "+OK 67 octets")
	c.multi("RETR 2", "+OK 58 octets")
	c.expect("RSET", "+OK") // drops the \Seen marks, as Dovecot does
	c.multi("RETR 3", "+OK 55 octets")
	if got := seenUIDs(ts, "alice"); len(got) != 0 {
		t.Fatalf("\\Seen before QUIT: %v", got)
	}
	c.expect("QUIT", "+OK Logging out.")
	c.expectClosed()
	if got := seenUIDs(ts, "alice"); !slices.Equal(got, []uint32{3}) {
		t.Fatalf("\\Seen after QUIT: %v", got)
	}
}

// TestSeenOnDisconnect: without QUIT, \Seen is still written; DELE is not.
func TestSeenOnDisconnect(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.multi("RETR 2", "+OK 58 octets")
	c.expect("DELE 3", "+OK Marked to be deleted.")
	c.nc.Close()
	ts.srv.Close()
	if got := seenUIDs(ts, "alice"); !slices.Equal(got, []uint32{2}) {
		t.Fatalf("\\Seen: %v", got)
	}
	if n := len(ts.inbox("alice")); n != 3 {
		t.Fatalf("messages after disconnect: %d", n)
	}
}

func TestNoFlagUpdates(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.NoFlagUpdates = true })
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.multi("RETR 1", "+OK 67 octets")
	c.expect("QUIT", "+OK Logging out.")
	c.expectClosed()
	if got := seenUIDs(ts, "alice"); len(got) != 0 {
		t.Fatalf("\\Seen with pop3_no_flag_updates: %v", got)
	}
}

func TestExpungedByOtherSession(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	mb, err := ts.user("alice").Open(t.Context(), "INBOX", storage.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := mb.Expunge(t.Context(), []uint32{1}); err != nil {
		t.Fatal(err)
	}
	mb.Sync(t.Context())
	mb.Close()
	// The list stays as it was at login; deleting the vanished message
	// commits cleanly.
	c.expect("STAT", "+OK 3 180")
	c.expect("DELE 1", "+OK Marked to be deleted.")
	c.expect("QUIT", "+OK Logging out, messages deleted.")
	c.expectClosed()
	if n := len(ts.inbox("alice")); n != 2 {
		t.Fatalf("messages left: %d", n)
	}
}
