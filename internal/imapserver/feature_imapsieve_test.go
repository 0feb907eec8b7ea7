package imapserver

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"roost/internal/storage"
)

// eventRecorder is a MailEvents that keeps what it was told and reads the
// messages through the user it was given, as the imapsieve hook does.
type eventRecorder struct {
	mu     sync.Mutex // guards events
	events []string
}

func (r *eventRecorder) MailEvent(ctx context.Context, s *Session, u storage.User, ev MailEvent) {
	line := fmt.Sprintf("%s %s %s<-%s %v %v", s.User, ev.Cause, ev.Mailbox, ev.From, ev.UIDs, ev.ChangedFlags)
	mb, err := u.Open(ctx, ev.Mailbox, storage.OpenOptions{ReadOnly: true})
	if err != nil {
		line += " open: " + err.Error()
	} else {
		for _, uid := range ev.UIDs {
			if !slices.ContainsFunc(mb.Messages(), func(m storage.Message) bool { return m.UID == uid }) {
				line += fmt.Sprintf(" uid %d missing", uid)
			}
		}
		mb.Close()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, line)
}

func (r *eventRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

func TestMailEvents(t *testing.T) {
	t.Parallel()
	rec := &eventRecorder{}
	ts := newTestServer(t, func(o *Options) { o.MailEvents = rec })
	ts.appendMsg("alice", "INBOX", "Subject: a\r\n\r\na\r\n")
	ts.appendMsg("alice", "INBOX", "Subject: b\r\n\r\nb\r\n")
	c := ts.login()
	c.cmd("1 CREATE Junk").ok()
	c.cmd("2 APPEND Junk {3}\r\nx\r\n").ok()
	if got := rec.take(); !slices.Equal(got, []string{"alice APPEND Junk<- [1] []"}) {
		t.Fatalf("APPEND events %q", got)
	}
	c.cmd("3 SELECT INBOX").ok()
	c.cmd("4 COPY 1 Junk").ok()
	c.cmd("5 UID MOVE 2 Junk").ok()
	c.cmd("6 STORE 1 +FLAGS (\\Seen $Junk)").ok()
	c.cmd("7 STORE 1 +FLAGS (\\Seen)").ok() // no change: no event
	c.cmd("8 UID COPY 99 Junk").ok()        // nothing copied: no event
	want := []string{"alice COPY Junk<-INBOX [2] []", "alice COPY Junk<-INBOX [3] []", "alice FLAG INBOX<- [1] [\\Seen $Junk]"}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	c.cmd("9 REPLACE 1 Junk {3+}\r\ny\r\n").ok() // RFC 8508: the new message is an APPEND
	if got := rec.take(); !slices.Equal(got, []string{"alice APPEND Junk<- [4] []"}) {
		t.Fatalf("REPLACE events %q", got)
	}
}

// TestMailEventsChangedFlags: a FLAG event names the flags that changed on
// each message, as Pigeonhole's imap.changedflags does (system flags in
// Dovecot's order, then keywords removed, then added); messages with
// different changes get separate events, in message order.
func TestMailEventsChangedFlags(t *testing.T) {
	t.Parallel()
	rec := &eventRecorder{}
	ts := newTestServer(t, func(o *Options) { o.MailEvents = rec })
	for range 3 {
		ts.appendMsg("alice", "INBOX", "Subject: a\r\n\r\na\r\n")
	}
	c := ts.login()
	c.cmd("1 SELECT INBOX").ok()
	c.cmd("2 STORE 1 +FLAGS (\\Seen $Junk)").ok()
	c.cmd("3 STORE 1:3 +FLAGS (\\Seen \\Flagged)").ok()
	c.cmd("4 STORE 1 FLAGS (\\Draft \\Answered $Work)").ok()
	want := []string{
		"alice FLAG INBOX<- [1] [\\Seen $Junk]",
		"alice FLAG INBOX<- [1] [\\Flagged]",
		"alice FLAG INBOX<- [2 3] [\\Flagged \\Seen]",
		"alice FLAG INBOX<- [1] [\\Answered \\Flagged \\Seen \\Draft $Junk $Work]",
	}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Fatalf("events\n%q\nwant\n%q", got, want)
	}
}
