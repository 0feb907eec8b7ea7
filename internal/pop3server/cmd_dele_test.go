package pop3server

import (
	"slices"
	"strings"
	"testing"
)

func TestDeleRsetQuit(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.expect("STAT", "+OK 3 180")
	c.expect("DELE 2", "+OK Marked to be deleted.")
	c.expect("DELE 2", "-ERR Message is deleted.")
	c.expect("RETR 2", "-ERR Message is deleted.")
	c.expect("LIST 2", "-ERR Message is deleted.")
	c.expect("STAT", "+OK 2 122")
	equalLines(t, "LIST", c.multi("LIST", "+OK 2 messages:"), "1 67", "3 55")
	c.expect("RSET", "+OK")
	c.expect("STAT", "+OK 3 180")
	c.expect("DELE 1", "+OK Marked to be deleted.")
	c.expect("DELE 3", "+OK Marked to be deleted.")
	c.expect("QUIT", "+OK Logging out, messages deleted.")
	c.expectClosed()
	var uids []uint32
	for _, m := range ts.inbox("alice") {
		uids = append(uids, m.UID)
	}
	if !slices.Equal(uids, []uint32{2}) {
		t.Fatalf("left: %v", uids)
	}
	if !strings.Contains(ts.log.String(), "Disconnected: Logged out top=0/0, retr=0/0, del=2/3, size=180") {
		t.Errorf("log:\n%s", ts.log.String())
	}
}

func TestDeletedFlag(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.DeletedFlag = "$POP3Deleted" })
	seedThree(ts, "alice")
	c := ts.login("alice", "secret")
	c.expect("DELE 1", "+OK Marked to be deleted.")
	c.expect("QUIT", "+OK Logging out, messages deleted.")
	c.expectClosed()
	msgs := ts.inbox("alice")
	if len(msgs) != 3 || !slices.Contains(msgs[0].Flags, "$POP3Deleted") {
		t.Fatalf("messages: %+v", msgs)
	}
	// The flagged message is hidden from the next session.
	c = ts.login("alice", "secret")
	c.expect("STAT", "+OK 2 113")
	equalLines(t, "UIDL", c.multi("UIDL", "+OK"), "1 0000000266322ec0", "2 0000000366322ec0")
}
