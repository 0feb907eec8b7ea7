package imapserver

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestGoIMAPClient runs the go-imap v2 client against the server: login,
// LIST, SELECT, APPEND, STATUS and IDLE with an announced EXISTS.
func TestGoIMAPClient(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		var cli net.Conn
		cli, srv := net.Pipe()
		ts.srv.ServeConn(srv)
		if ts.clientTLS != nil {
			cli = tls.Client(cli, ts.clientTLS)
		}

		exists := make(chan uint32, 4)
		c := imapclient.New(cli, &imapclient.Options{
			UnilateralDataHandler: &imapclient.UnilateralDataHandler{
				Mailbox: func(d *imapclient.UnilateralDataMailbox) {
					if d.NumMessages != nil {
						exists <- *d.NumMessages
					}
				},
			},
		})
		defer c.Close()
		if err := c.WaitGreeting(); err != nil {
			t.Fatal(err)
		}
		if !c.Caps().Has(imap.CapIMAP4rev1) || !c.Caps().Has(imap.CapLiteralPlus) {
			t.Fatalf("pre-login caps %v", c.Caps())
		}
		if err := c.Login("alice", "secret").Wait(); err != nil {
			t.Fatal(err)
		}
		if !c.Caps().Has(imap.CapMove) || !c.Caps().Has(imap.CapUIDPlus) {
			t.Fatalf("post-login caps %v", c.Caps())
		}
		if err := c.Create("Archive/2024", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		boxes, err := c.List("", "*", nil).Collect()
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, b := range boxes {
			names = append(names, b.Mailbox)
		}
		if !equalStrings(names, []string{"INBOX", "Archive", "Archive/2024"}) {
			t.Fatalf("LIST %q", names)
		}

		msg := "Subject: via go-imap\r\n\r\nhello\r\n"
		app := c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen},
			Time: time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)})
		if _, err := app.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if err := app.Close(); err != nil {
			t.Fatal(err)
		}
		ad, err := app.Wait()
		if err != nil || ad.UID != 1 || ad.UIDValidity == 0 {
			t.Fatalf("APPEND %+v %v", ad, err)
		}

		sd, err := c.Select("INBOX", nil).Wait()
		if err != nil || sd.NumMessages != 1 || sd.UIDNext != 2 {
			t.Fatalf("SELECT %+v %v", sd, err)
		}
		st, err := c.Status("Archive/2024", &imap.StatusOptions{NumMessages: true, UIDNext: true}).Wait()
		if err != nil || *st.NumMessages != 0 {
			t.Fatalf("STATUS %+v %v", st, err)
		}

		idle, err := c.Idle()
		if err != nil {
			t.Fatal(err)
		}
		ts.appendMsg("alice", "INBOX", testMsg)
		select {
		case n := <-exists:
			if n != 2 {
				t.Fatalf("EXISTS %d", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no EXISTS during IDLE")
		}
		if err := idle.Close(); err != nil {
			t.Fatal(err)
		}
		if err := idle.Wait(); err != nil {
			t.Fatal(err)
		}
		if err := c.Logout().Wait(); err != nil {
			t.Fatal(err)
		}
	})
}
