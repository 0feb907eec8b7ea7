package imapserver

import (
	"net"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestGoIMAPClientIMAP4rev2 runs the go-imap v2 client in IMAP4rev2
// mode: it sees IMAP4rev2 advertised, ENABLEs it, and then uses UTF-8
// mailbox names, ESEARCH answers, STATUS DELETED and FETCH FLAGS without
// \Recent (RFC 9051).
func TestGoIMAPClientIMAP4rev2(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.appendMsg("alice", "INBOX", testMsg, `\Deleted`)
	ts.appendMsg("alice", "INBOX", testMsg)
	cli, srv := net.Pipe()
	ts.srv.ServeConn(srv)
	c := imapclient.New(cli, nil)
	defer c.Close()
	if err := c.WaitGreeting(); err != nil {
		t.Fatal(err)
	}
	if !c.Caps().Has(imap.CapIMAP4rev2) || !c.Caps().Has(imap.CapIMAP4rev1) {
		t.Fatalf("pre-login caps %v", c.Caps())
	}
	if err := c.Login("alice", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	en, err := c.Enable(imap.CapIMAP4rev2).Wait()
	if err != nil || !en.Caps.Has(imap.CapIMAP4rev2) {
		t.Fatalf("ENABLE %+v %v", en, err)
	}
	if err := c.Create("Entwürfe/Brief", nil).Wait(); err != nil {
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
	if !equalStrings(names, []string{"INBOX", "Entwürfe", "Entwürfe/Brief"}) {
		t.Fatalf("LIST %q", names)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumDeleted: true}).Wait()
	if err != nil || *st.NumMessages != 2 || st.NumDeleted == nil || *st.NumDeleted != 1 {
		t.Fatalf("STATUS %+v %v", st, err)
	}
	sd, err := c.Select("Entwürfe/Brief", nil).Wait()
	if err != nil || sd.NumMessages != 0 {
		t.Fatalf("SELECT Entwürfe/Brief %+v %v", sd, err)
	}
	if sd, err = c.Select("INBOX", nil).Wait(); err != nil || sd.NumMessages != 2 {
		t.Fatalf("SELECT INBOX %+v %v", sd, err)
	}
	res, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil || !res.UID || !slices.Equal(res.AllUIDs(), []imap.UID{2}) {
		t.Fatalf("UID SEARCH %+v %v", res, err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(msgs) != 2 {
		t.Fatalf("FETCH %v %v", msgs, err)
	}
	for _, m := range msgs {
		if slices.Contains(m.Flags, "\\Recent") {
			t.Errorf("message %d has \\Recent under IMAP4rev2: %v", m.SeqNum, m.Flags)
		}
	}
	if !slices.Contains(msgs[0].Flags, imap.FlagDeleted) {
		t.Errorf("message 1 flags %v", msgs[0].Flags)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestGoIMAPClientUTF8WithoutEnable: the go-imap v2 client sends UTF-8
// mailbox names as soon as it sees IMAP4rev2 advertised, ENABLE or not;
// the IMAP4rev1 session accepts them and answers in modified UTF-7, which
// the client decodes.
func TestGoIMAPClientUTF8WithoutEnable(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	cli, srv := net.Pipe()
	ts.srv.ServeConn(srv)
	c := imapclient.New(cli, nil)
	defer c.Close()
	if err := c.Login("alice", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Entwürfe", "R&D ü"} {
		if err := c.Create(name, nil).Wait(); err != nil {
			t.Fatalf("CREATE %q: %v", name, err)
		}
	}
	boxes, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range boxes {
		names = append(names, b.Mailbox)
	}
	slices.Sort(names)
	if !equalStrings(names, []string{"Entwürfe", "INBOX", "R&D ü"}) {
		t.Fatalf("LIST %q", names)
	}
	if _, err := c.Select("R&D ü", nil).Wait(); err != nil {
		t.Fatal(err)
	}
}
