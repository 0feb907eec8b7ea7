package e2e

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestClientGoIMAP drives both servers with the go-imap v2 client: append, select, fetch of
// every common item, store, search, copy, move, expunge, list, status and IDLE with a change
// from a second connection.
func TestClientGoIMAP(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t testing.TB, env *mailEnv, srv *server) {
		goIMAPSession(t, srv)
	})
}

func dialGoIMAP(t testing.TB, srv *server, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.Addr(), opts)
	if err != nil {
		t.Fatalf("%s: dial: %v", srv.kind, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("alice", "alicepw").Wait(); err != nil {
		t.Fatalf("%s: login: %v", srv.kind, err)
	}
	return c
}

func goIMAPSession(t testing.TB, srv *server) {
	exists := make(chan uint32, 16)
	c := dialGoIMAP(t, srv, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %s: %v", srv.kind, what, err)
		}
	}
	for _, capName := range []imap.Cap{imap.CapIMAP4rev1, imap.CapIdle, imap.CapUIDPlus, imap.CapMove, imap.CapNamespace} {
		if !c.Caps().Has(capName) {
			t.Errorf("%s: capability %s missing", srv.kind, capName)
		}
	}
	check("create", c.Create("Go/Sub", nil).Wait())

	msg := []byte(crlf(testMsg("go imap", "hello from go-imap")))
	date := time.Date(2020, 7, 1, 12, 0, 0, 0, time.UTC)
	app := c.Append("INBOX", int64(len(msg)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen, "$Label1"}, Time: date})
	app.Write(msg)
	check("append close", app.Close())
	ad, err := app.Wait()
	check("append", err)
	if ad.UID != 1 || ad.UIDValidity == 0 {
		t.Errorf("%s: APPENDUID = %+v", srv.kind, ad)
	}

	sel, err := c.Select("INBOX", nil).Wait()
	check("select", err)
	if sel.NumMessages != 1 || sel.UIDNext != 2 || sel.UIDValidity != ad.UIDValidity {
		t.Errorf("%s: select = %+v", srv.kind, sel)
	}

	bodySection := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		UID: true, Flags: true, Envelope: true, InternalDate: true, RFC822Size: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{bodySection},
	}).Collect()
	check("fetch", err)
	if len(msgs) != 1 {
		t.Fatalf("%s: fetch returned %d messages", srv.kind, len(msgs))
	}
	m := msgs[0]
	if m.UID != 1 || !slices.Contains(m.Flags, imap.FlagSeen) || !slices.Contains(m.Flags, "$Label1") {
		t.Errorf("%s: fetch uid/flags = %v %v", srv.kind, m.UID, m.Flags)
	}
	if !m.InternalDate.Equal(date) || m.RFC822Size != int64(len(msg)) {
		t.Errorf("%s: fetch date/size = %v %d", srv.kind, m.InternalDate, m.RFC822Size)
	}
	if m.Envelope == nil || m.Envelope.Subject != "go imap" || m.Envelope.MessageID != "go.imap@example.org" {
		t.Errorf("%s: envelope = %+v", srv.kind, m.Envelope)
	}
	if sp, ok := m.BodyStructure.(*imap.BodyStructureSinglePart); !ok || sp.MediaType() != "text/plain" {
		t.Errorf("%s: bodystructure = %#v", srv.kind, m.BodyStructure)
	}
	if got := m.FindBodySection(bodySection); !bytes.Equal(got, msg) {
		t.Errorf("%s: BODY[] = %q", srv.kind, got)
	}

	check("store", c.Store(imap.UIDSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close())
	sd, err := c.Search(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagFlagged, imap.FlagSeen}}, nil).Wait()
	check("search", err)
	if got := sd.AllSeqNums(); !slices.Equal(got, []uint32{1}) {
		t.Errorf("%s: search flagged seen = %v", srv.kind, got)
	}
	cd, err := c.Copy(imap.UIDSetNum(1), "Go/Sub").Wait()
	check("copy", err)
	if cd.UIDValidity == 0 || cd.DestUIDs.String() != "1" {
		t.Errorf("%s: COPYUID = %+v", srv.kind, cd)
	}

	// IDLE: a second connection appends; the idling one must hear of it.
	idle, err := c.Idle()
	check("idle", err)
	other := dialGoIMAP(t, srv, nil)
	app2 := other.Append("INBOX", int64(len(msg)), nil)
	app2.Write(msg)
	check("append 2 close", app2.Close())
	_, err = app2.Wait()
	check("append 2", err)
	select {
	case n := <-exists:
		if n != 2 {
			t.Errorf("%s: IDLE reported %d EXISTS, want 2", srv.kind, n)
		}
	case <-time.After(stepTimeout):
		t.Errorf("%s: no EXISTS during IDLE within %v", srv.kind, stepTimeout)
	}
	check("idle done", idle.Close())
	check("idle wait", idle.Wait())

	_, err = c.Move(imap.SeqSetNum(2), "Go/Sub").Wait()
	check("move", err)
	check("store deleted", c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close())
	expunged, err := c.Expunge().Collect()
	check("expunge", err)
	if !slices.Equal(expunged, []uint32{1}) {
		t.Errorf("%s: expunged = %v", srv.kind, expunged)
	}

	st, err := c.Status("Go/Sub", &imap.StatusOptions{NumMessages: true, UIDNext: true}).Wait()
	check("status", err)
	if st.NumMessages == nil || *st.NumMessages != 2 || st.UIDNext != 3 {
		t.Errorf("%s: status Go/Sub = %+v", srv.kind, st)
	}
	boxes, err := c.List("", "*", nil).Collect()
	check("list", err)
	var names []string
	for _, b := range boxes {
		names = append(names, b.Mailbox)
	}
	slices.Sort(names)
	if want := []string{"Go", "Go/Sub", "INBOX", "Sent", "Trash"}; !slices.Equal(names, want) {
		t.Errorf("%s: LIST = %v, want %v", srv.kind, names, want)
	}
	check("logout", c.Logout().Wait())
}
