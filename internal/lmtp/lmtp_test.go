package lmtp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"roost/internal/delivery"
)

// fakeDelivery knows alice and bob; "down" fails the lookup; it records
// every delivered copy.
type fakeDelivery struct {
	mu     sync.Mutex // guards stored
	stored map[string][]string
	fail   delivery.Result // returned by Deliver when Code != 0
}

func (f *fakeDelivery) Resolve(_ context.Context, address string) (delivery.Recipient, delivery.Result) {
	user, _, _ := strings.Cut(address, "+")
	switch user {
	case "alice", "bob", "alice@example.net":
		return delivery.Recipient{Address: address, Account: delivery.Account{User: user}}, delivery.Result{Code: 250, Enhanced: "2.1.5", Text: "OK"}
	case "down":
		return delivery.Recipient{}, delivery.Result{Code: 451, Enhanced: "4.3.0", Text: "Temporary user lookup failure"}
	}
	return delivery.Recipient{}, delivery.Result{Code: 550, Enhanced: "5.1.1", Text: "User doesn't exist: " + user}
}

func (f *fakeDelivery) Deliver(_ context.Context, env delivery.Envelope, r delivery.Recipient, tr delivery.Trace, msg delivery.Message) delivery.Result {
	if f.fail.Code != 0 {
		return f.fail
	}
	b, _ := io.ReadAll(io.NewSectionReader(msg, 0, msg.Size()))
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stored == nil {
		f.stored = map[string][]string{}
	}
	f.stored[r.Address] = append(f.stored[r.Address], string(tr.Header())+string(b))
	return delivery.Result{Code: 250, Enhanced: "2.0.0", Text: "Saved"}
}

func (f *fakeDelivery) get(addr string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stored[addr]
}

type client struct {
	t    *testing.T
	nc   net.Conn
	r    *bufio.Reader
	addr string
}

func start(t *testing.T, fd *fakeDelivery, mod func(*Options)) *client {
	t.Helper()
	opts := Options{Delivery: fd, Hostname: "mail.example.net", AddReceivedHeader: true,
		Now:          func() time.Time { return time.Date(2026, 11, 21, 23, 55, 59, 0, time.UTC) },
		NewSessionID: func() string { return "SESSION" }}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.Serve(l); close(done) }()
	t.Cleanup(func() {
		s.Shutdown(context.Background())
		<-done
	})
	return dial(t, l.Addr().String())
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &client{t: t, nc: nc, r: bufio.NewReader(nc), addr: addr}
	c.expect("220 mail.example.net ")
	return c
}

// dialAgain opens another connection to c's server.
func (c *client) dialAgain(t *testing.T) *client { return dial(t, c.addr) }

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, s); err != nil {
		c.t.Fatal(err)
	}
}

// expect reads one (possibly multi-line) reply and checks its last line
// starts with want.
func (c *client) expect(want string) string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	var all []string
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read reply (want %q): %v (got %q)", want, err, all)
		}
		l = strings.TrimRight(l, "\r\n")
		all = append(all, l)
		if len(l) < 4 || l[3] == ' ' {
			break
		}
	}
	last := all[len(all)-1]
	if !strings.HasPrefix(last, want) {
		c.t.Fatalf("got %q, want %q", all, want)
	}
	return strings.Join(all, "\n")
}

func TestConversation(t *testing.T) {
	t.Parallel()
	fd := &fakeDelivery{}
	c := start(t, fd, nil)
	c.send("MAIL FROM:<a@b>\r\n")
	c.expect("503 5.5.1 Invalid command: Send LHLO first")
	c.send("LHLO client.example\r\n")
	got := c.expect("250 SIZE")
	if got != "250-mail.example.net\n250-8BITMIME\n250-CHUNKING\n250-ENHANCEDSTATUSCODES\n250-PIPELINING\n250 SIZE" {
		t.Fatalf("LHLO reply %q", got)
	}
	for _, step := range []struct{ send, want string }{
		{"RCPT TO:<alice>", "503 5.5.0 MAIL needed first"},
		{"DATA", "503 5.5.0 MAIL needed first"},
		{"MAIL FROM:<x y>", "501 5.5.4 Invalid FROM: Invalid character in localpart"},
		{"MAIL FROM:<s@example.org> SIZE=100 BODY=8BITMIME", "250 2.1.0 OK"},
		{"MAIL FROM:<s@example.org>", "503 5.5.0 MAIL already given"},
		{"DATA", "503 5.5.0 No valid recipients"},
		{"RCPT TO:<alice> NOTIFY=NEVER", "555 5.5.4 Unsupported parameters"},
		{"RCPT TO:alice", "501 5.5.4 Invalid TO: Missing '<' at beginning of path"},
		{"RCPT TO:<>", "501 5.5.4 Invalid TO: Null path not allowed"},
		{"RCPT TO:<nobody>", "550 5.1.1 <nobody> User doesn't exist: nobody"},
		{"RCPT TO:<down>", "451 4.3.0 <down> Temporary user lookup failure"},
		{"RCPT TO:<alice>", "250 2.1.5 OK"},
		{"FOO", "500 5.5.1 Unknown command"},
		{"VRFY alice", "252 2.3.3 Try RCPT instead"},
		{"NOOP", "250 2.0.0 OK"},
		{"RCPT TO:<bob+work>", "250 2.1.5 OK"},
		{"DATA", "354 OK"},
	} {
		c.send(step.send + "\r\n")
		c.expect(step.want)
	}
	c.send("Subject: hi\r\n\r\n..dot\r\n.\r\n")
	// Ids count every RCPT that reached the lookup, as Dovecot's do.
	c.expect("250 2.0.0 <alice> SESSION:R3 Saved")
	c.expect("250 2.0.0 <bob+work> SESSION:R4 Saved")
	c.send("QUIT\r\n")
	c.expect("221 2.0.0 Bye")
	want := "Return-Path: <s@example.org>\r\nReceived: from client.example ([127.0.0.1])\r\n\tby mail.example.net with LMTP\r\n\tid SESSION\r\n\t(envelope-from <s@example.org>); Sat, 21 Nov 2026 23:55:59 +0000\r\nSubject: hi\r\n\r\n.dot\r\n"
	if got := fd.get("alice"); len(got) != 1 || got[0] != want {
		t.Fatalf("alice got %q\nwant %q", got, want)
	}
}

func TestPipelinedOneRecipient(t *testing.T) {
	t.Parallel()
	fd := &fakeDelivery{}
	c := start(t, fd, nil)
	// Everything up to DATA in one write (RFC 2920).
	c.send("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<bob>\r\nRCPT TO:<zed>\r\nDATA\r\n")
	c.expect("250 SIZE")
	c.expect("250 2.1.0")
	c.expect("250 2.1.5")
	c.expect("550 5.1.1 <zed>")
	c.expect("354")
	c.send("body\r\n.\r\nQUIT\r\n")
	c.expect("250 2.0.0 <bob> SESSION Saved")
	c.expect("221")
	got := fd.get("bob")
	if len(got) != 1 || !strings.HasPrefix(got[0], "Return-Path: <>\r\nDelivered-To: bob\r\n") || !strings.Contains(got[0], "\tfor <bob>; ") {
		t.Fatalf("bob got %q", got)
	}
}

func TestBDAT(t *testing.T) {
	t.Parallel()
	fd := &fakeDelivery{}
	c := start(t, fd, nil)
	c.send("LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice>\r\nBDAT 10\r\nSubject: hBDAT 9 LAST\r\ni\r\n\r\nbody")
	c.expect("250 SIZE")
	c.expect("250 2.1.0")
	c.expect("250 2.1.5")
	c.expect("250 2.0.0 Added 10 octets")
	c.expect("250 2.0.0 <alice> SESSION Saved")
	c.send("DATA\r\n")
	c.expect("503 5.5.0 MAIL needed first")
	// A failed chunk poisons the transaction until RSET.
	c.send("BDAT 3\r\nabcMAIL FROM:<>\r\nBDAT 2 LAST\r\nxyRSET\r\nMAIL FROM:<>\r\nRCPT TO:<alice>\r\nBDAT 0 LAST\r\n")
	c.expect("503 5.5.0 MAIL needed first")
	c.expect("250 2.1.0")
	c.expect("503 5.5.0 No valid recipients")
	c.expect("250 2.0.0 OK")
	c.expect("250 2.1.0")
	c.expect("250 2.1.5")
	c.expect("250 2.0.0 <alice> SESSION:T3 Saved") // third MAIL of the session
	got := fd.get("alice")
	if len(got) != 2 || !strings.HasSuffix(got[0], "\r\nSubject: hi\r\n\r\nbody") || !strings.HasSuffix(got[1], "+0000\r\n") {
		t.Fatalf("alice got %q", got)
	}
	c.send("BDAT x\r\n")
	c.expect("501 5.5.4")
}

func TestSizeLimit(t *testing.T) {
	t.Parallel()
	fd := &fakeDelivery{}
	c := start(t, fd, func(o *Options) { o.MaxMessageSize = 20 })
	c.send("LHLO x\r\n")
	c.expect("250 SIZE 20")
	c.send("MAIL FROM:<> SIZE=21\r\n")
	c.expect("552 5.2.3 Message size exceeds administrative limit")
	c.send("MAIL FROM:<>\r\nRCPT TO:<alice>\r\nRCPT TO:<bob>\r\nDATA\r\n")
	c.expect("250")
	c.expect("250")
	c.expect("250")
	c.expect("354")
	c.send(strings.Repeat("x", 30) + "\r\n.\r\nNOOP\r\n")
	c.expect("552 5.2.3 <alice> Mail size is larger than the maximum size allowed by server configuration")
	c.expect("552 5.2.3 <bob> Mail size is larger than the maximum size allowed by server configuration")
	c.expect("250 2.0.0 OK")
	if len(fd.get("alice")) != 0 {
		t.Fatal("a message over the limit was delivered")
	}
}

func TestDeliveryFailurePerRecipient(t *testing.T) {
	t.Parallel()
	fd := &fakeDelivery{fail: delivery.Result{Code: 452, Enhanced: "4.3.1", Text: "Mail system full, try again later"}}
	c := start(t, fd, nil)
	c.send("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice>\r\nDATA\r\n")
	c.expect("250 SIZE")
	c.expect("250")
	c.expect("250")
	c.expect("354")
	c.send("x\r\n.\r\n")
	c.expect("452 4.3.1 <alice> Mail system full")
}

// TestDisconnectMidData: a client that goes away before the final dot
// gets nothing delivered.
func TestDisconnectMidData(t *testing.T) {
	t.Parallel()
	fd := &fakeDelivery{}
	c := start(t, fd, nil)
	c.send("LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<alice>\r\nDATA\r\n")
	for _, w := range []string{"250 SIZE", "250", "250", "354"} {
		c.expect(w)
	}
	c.send("Subject: partial\r\n")
	c.nc.(*net.TCPConn).CloseWrite()
	if _, err := c.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		t.Fatalf("after EOF mid-DATA: %v", err)
	}
	if len(fd.get("alice")) != 0 {
		t.Fatal("partial message delivered")
	}
}

func TestShutdownIdle(t *testing.T) {
	t.Parallel()
	fd := &fakeDelivery{}
	s, _ := New(Options{Delivery: fd, Hostname: "h"})
	a, b := net.Pipe()
	s.ServeConn(a)
	r := bufio.NewReader(b)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "220 ") {
		t.Fatal(l)
	}
	go func() {
		for {
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
	}()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func TestTooManyBadCommands(t *testing.T) {
	t.Parallel()
	c := start(t, &fakeDelivery{}, nil)
	c.send(strings.Repeat("BAD\r\n", maxBadCommands))
	for i := 0; i < maxBadCommands; i++ {
		c.expect("500")
	}
	c.expect("421 4.7.0")
}

func FuzzCommands(f *testing.F) {
	for _, s := range []string{
		"LHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
		"LHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<bob>\r\nBDAT 3 LAST\r\nabc",
		"LHLO x\r\nBDAT 99999999999\r\n", "RSET\r\nNOOP\r\nVRFY\r\nSTARTTLS\r\n",
		"LHLO x\r\nMAIL FROM:<\"q\\\"\"@[1.2.3.4]> SIZE=1\r\nRCPT TO:<a+b@c> ORCPT=rfc822;a+2Bb\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		fd := &fakeDelivery{}
		s, err := New(Options{Delivery: fd, Hostname: "h", MaxMessageSize: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		a, b := net.Pipe()
		s.ServeConn(a)
		go func() {
			io.WriteString(b, in)
			b.(interface{ Close() error }).Close()
		}()
		io.Copy(io.Discard, b)
		s.Close()
	})
}

func TestDecodeORCPT(t *testing.T) {
	t.Parallel()
	if got := decodeORCPT("rfc822;a+2Bb@x"); got != "a+b@x" {
		t.Fatal(got)
	}
	if got := decodeORCPT("bad"); got != "" {
		t.Fatal(got)
	}
	_ = fmt.Sprint()
}
