package imapserver

import (
	"context"
	"testing"
	"time"

	"roost/internal/storage"
)

func TestAppend(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		st, _ := ts.user("alice").Status(context.Background(), "INBOX")
		uv := itoa(st.UIDValidity)

		c.send(`a APPEND INBOX (\Seen $Foo) " 1-Jan-2020 10:00:00 +0100" {5}`)
		c.expect("+ OK")
		c.send("hello")
		c.collect("a").status("OK [APPENDUID " + uv + " 1] Append completed.")

		c.sendRaw("b APPEND INBOX {5+}\r\nworld\r\n")
		c.collect("b").status("OK [APPENDUID " + uv + " 2]")

		mb, err := ts.user("alice").Open(context.Background(), "INBOX", storage.OpenOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer mb.Close()
		m := mb.Messages()[0]
		if !hasFlag(m.Flags, `\Seen`) || !hasFlag(m.Flags, "$Foo") ||
			!m.InternalDate.Equal(time.Date(2020, 1, 1, 9, 0, 0, 0, time.UTC)) || m.Size != 5 {
			t.Fatalf("message %+v", m)
		}

		// A missing mailbox is refused before the data is asked for.
		c.cmd("c APPEND nonexist {3}").status("NO [TRYCREATE] ")
		c.cmd("d APPEND INBOX {0}").status("NO Can't save a zero byte message.")
		c.sendRaw("e APPEND nonexist {3+}\r\nabc\r\n")
		c.collect("e").status("NO [TRYCREATE] ")
		c.sendRaw("f APPEND INBOX (\\Recent) {3+}\r\nabc\r\n")
		c.collect("f").status(`BAD Error in IMAP command APPEND: Invalid system flag \RECENT`)
		c.sendRaw("g APPEND INBOX \"bad date\" {3+}\r\nabc\r\n")
		c.collect("g").status("BAD Error in IMAP command APPEND: Invalid internal date")
		c.cmd("h APPEND INBOX").status("BAD Error in IMAP command APPEND: ")
		c.cmd("i NOOP").ok()
	})
}

func TestAppendSelectedAnnounces(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a SELECT INBOX").ok().has("* 0 EXISTS")
		c.sendRaw("b APPEND INBOX {5+}\r\nhello\r\n")
		c.collect("b").ok().has("* 1 EXISTS").has("* 1 RECENT")
	})
}

func TestAppendTooBig(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) { o.MaxAppendSize = 10 })
	c := ts.login()
	c.cmd("a APPEND INBOX {11}").status("NO [TOOBIG] ")
	c.cmd("b NOOP").ok()
	c.sendRaw("c APPEND INBOX {11+}\r\n")
	c.expect("* BYE Literal size too large")
	c.expectClosed()
}

func TestAppendUTF8Mailbox(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a CREATE Entw&APw-rfe").ok()
		c.sendRaw("b APPEND Entw&APw-rfe {3+}\r\nabc\r\n")
		c.collect("b").ok()
		if st, err := ts.user("alice").Status(context.Background(), "Entwürfe"); err != nil || st.Messages != 1 {
			t.Fatalf("status %+v %v", st, err)
		}
	})
}
