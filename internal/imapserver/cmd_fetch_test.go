package imapserver

import (
	"bufio"
	"context"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"roost/internal/memstore"
	"roost/internal/storage"
)

// h5Auth accepts every login (helper-5 command tests only).
type h5Auth struct{}

func (h5Auth) PlaintextAllowed(ConnInfo) bool { return true }
func (h5Auth) Mechanisms(ConnInfo) []string   { return nil }
func (h5Auth) Login(_ context.Context, _ ConnInfo, user, _ string) (*Session, error) {
	return &Session{User: user, Method: "PLAIN"}, nil
}
func (h5Auth) Begin(context.Context, ConnInfo, string) (Exchange, error) {
	return nil, ErrUnknownMech
}

var h5Date = time.Date(2013, 11, 30, 15, 57, 48, 0, time.UTC)

// h5Client is a logged-in client over net.Pipe against memstore.
type h5Client struct {
	t    *testing.T
	nc   net.Conn
	br   *bufio.Reader
	user storage.User
}

func newH5Client(t *testing.T) *h5Client {
	t.Helper()
	drv := memstore.New(memstore.Options{})
	cfg := storage.UserConfig{Username: "alice", Fields: Fields, Now: func() time.Time { return h5Date }}
	user, err := drv.OpenUser(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{
		Auth: h5Auth{},
		OpenUser: func(ctx context.Context, s *Session) (storage.User, error) {
			return drv.OpenUser(ctx, cfg)
		},
		Now: func() time.Time { return h5Date },
	})
	if err != nil {
		t.Fatal(err)
	}
	cli, server := net.Pipe()
	srv.ServeConn(server)
	c := &h5Client{t: t, nc: cli, br: bufio.NewReader(cli), user: user}
	t.Cleanup(func() {
		cli.Close()
		srv.Close()
	})
	c.readLine() // greeting
	c.do("l LOGIN alice x")
	return c
}

func (c *h5Client) appendMsg(box, body string, flags ...string) {
	c.t.Helper()
	_, err := c.user.Append(context.Background(), box, storage.AppendMessage{
		Body: strings.NewReader(body), Size: -1, Flags: flags, InternalDate: h5Date,
	})
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *h5Client) readLine() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (after %q)", err, line)
	}
	return line
}

var literalRE = regexp.MustCompile(`\{(\d+)\}\r\n$`)

// do sends one command line and returns everything up to and including
// its tagged response, literals inlined, CRLFs kept.
func (c *h5Client) do(line string) string {
	c.t.Helper()
	tag, _, _ := strings.Cut(line, " ")
	c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(line + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
	var out strings.Builder
	for {
		l := c.readLine()
		out.WriteString(l)
		for m := literalRE.FindStringSubmatch(l); m != nil; m = literalRE.FindStringSubmatch(l) {
			n := 0
			for _, d := range m[1] {
				n = n*10 + int(d-'0')
			}
			buf := make([]byte, n)
			if _, err := io.ReadFull(c.br, buf); err != nil {
				c.t.Fatal(err)
			}
			out.Write(buf)
			l = c.readLine()
			out.WriteString(l)
		}
		if strings.HasPrefix(l, tag+" ") {
			return out.String()
		}
	}
}

// expect runs a command and compares the whole response.
func (c *h5Client) expect(line, want string) {
	c.t.Helper()
	got := c.do(line)
	want = strings.ReplaceAll(strings.TrimLeft(want, "\n"), "\n", "\r\n")
	if got != want {
		c.t.Errorf("%s:\ngot:\n%s\nwant:\n%s", line, got, want)
	}
}

const h5Multipart = "From: Alice <alice@example.com>\r\n" +
	"To: bob@example.com\r\n" +
	"Subject: =?utf-8?q?M=C3=BCnchen?= trip\r\n" +
	"Date: Sat, 30 Nov 2013 23:30:00 -0800\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=XX\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--XX\r\n" +
	"Content-Type: text/plain; charset=iso-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Gr=FC=DFe aus M=FCnchen\r\n" +
	"--XX\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"Subject: inner\r\n" +
	"\r\n" +
	"inner body\r\n" +
	"--XX--\r\n"

func TestFetchBasics(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	c.appendMsg("INBOX", "Subject: hi\r\nFrom: a@b\r\n\r\nhello\r\n", `\Flagged`, "Work")
	c.do("s SELECT INBOX")
	date := h5Date.In(time.Local).Format("02-Jan-2006 15:04:05 -0700")
	c.expect("f1 FETCH 1 (FLAGS RFC822.SIZE INTERNALDATE)", `
* 1 FETCH (FLAGS (\Flagged \Recent Work) RFC822.SIZE 33 INTERNALDATE "`+date+`")
f1 OK Fetch completed.
`)
	c.expect("f2 UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (subject)] FLAGS)", `
* 1 FETCH (UID 1 FLAGS (\Flagged \Recent Work) BODY[HEADER.FIELDS (SUBJECT)] {15}
Subject: hi

)
f2 OK Fetch completed.
`)
	c.expect("f3 FETCH 1 (BODY[TEXT]<1.3>)", `
* 1 FETCH (FLAGS (\Flagged \Seen \Recent Work) BODY[TEXT]<1> {3}
ell)
f3 OK Fetch completed.
`)
	c.expect("f4 FETCH 1 BODY[TEXT]", `
* 1 FETCH (BODY[TEXT] {7}
hello
)
f4 OK Fetch completed.
`)
	c.expect("f5 FETCH 2 FLAGS", "\nf5 BAD Error in IMAP command FETCH: Invalid messageset\n")
	c.expect("f6 FETCH 1 (FLAGS BOGUS)", "\nf6 BAD Error in IMAP command FETCH: Unknown parameter BOGUS\n")
	c.expect("f7 UID FETCH 5 FLAGS", "\nf7 OK Fetch completed.\n")
}

func TestFetchSections(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	c.appendMsg("INBOX", h5Multipart)
	c.do("s EXAMINE INBOX")
	c.expect("f1 FETCH 1 (BODY[1.MIME] BODY[1] BODY[2.HEADER] BODY[2.TEXT] BODY[2.1] BODY[3] BODY[2.MIME]<0.13>)", `
* 1 FETCH (BODY[1.MIME] {93}
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

 BODY[1] {23}
Gr=FC=DFe aus M=FCnchen BODY[2.HEADER] {18}
Subject: inner

 BODY[2.TEXT] {10}
inner body BODY[2.1] {10}
inner body BODY[3] {0}
 BODY[2.MIME]<0> {13}
Content-Type:)
f1 OK Fetch completed.
`)
	got := c.do("f2 FETCH 1 (FLAGS BODY.PEEK[HEADER] BODY[])") // read-only: no \Seen
	if !strings.HasPrefix(got, "* 1 FETCH (FLAGS (\\Recent) BODY[HEADER] {198}\r\n") || !strings.HasSuffix(got, "--XX--\r\n)\r\nf2 OK Fetch completed.\r\n") {
		t.Errorf("f2: %q", got)
	}
}

const h5Binary = "From: a@b.example\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=XX\r\n" +
	"\r\n" +
	"--XX\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"aGVsbG8Ad29ybGQ=\r\n" +
	"--XX\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"caf=C3=A9  \r\n" +
	"--XX--\r\n"

// TestFetchBinary covers RFC 3516: decoded content, literal8 for NULs and
// for content whose base64 or quoted-printable was undone (Dovecot 2.3.19),
// BINARY.SIZE, partials, \Seen, and NO for undecodable parts without
// losing the session.
func TestFetchBinary(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	c.appendMsg("INBOX", h5Binary)
	c.appendMsg("INBOX", "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n")
	c.appendMsg("INBOX", "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8*\r\n")
	c.do("s SELECT INBOX")
	c.expect("f1 UID FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[3])", `
* 1 FETCH (UID 1 BINARY.SIZE[1] 11 BINARY.SIZE[2] 5 BINARY.SIZE[3] 0)
f1 OK Fetch completed.
`)
	c.expect("f2 FETCH 1 (BINARY.PEEK[1] BINARY.PEEK[2]<1.2>)", "\n* 1 FETCH (BINARY[1] ~{11}\nhello\x00world BINARY[2]<1> ~{2}\naf)\nf2 OK Fetch completed.\n")
	c.expect("f3 FETCH 1 (BINARY[2])", "\n* 1 FETCH (FLAGS (\\Seen \\Recent) BINARY[2] ~{5}\ncaf\xc3\xa9)\nf3 OK Fetch completed.\n")
	c.expect("f4 UID FETCH 2 (BINARY.SIZE[1])", "\n* 2 FETCH (UID 2)\nf4 NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding.\n")
	c.expect("f5 UID FETCH 3 (BINARY.PEEK[1])", "\n* 3 FETCH (UID 3)\nf5 NO [PARSE] Invalid data in MIME part.\n")
	c.expect("f6 FETCH 1 BINARY[1.HEADER]", "\nf6 BAD Error in IMAP command FETCH: Invalid BINARY[..] section\n")
	c.expect("f7 NOOP", "\nf7 OK NOOP completed.\n")
}
