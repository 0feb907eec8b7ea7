package imapserver

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FuzzCommand feeds arbitrary input to a session, before and after login
// with a mailbox selected: the server must never panic (the per-connection
// recover logs "Panic"), never leave a handler's arguments unread ("BUG"),
// and always finish once the client hangs up.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{
		"a NOOP\r\n", "a LOGIN alice secret\r\n", "a AUTHENTICATE PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n",
		"a SELECT INBOX\r\nb FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n",
		"a APPEND INBOX (\\Seen) {5+}\r\nhello\r\n", "a APPEND INBOX {5}\r\nhello\r\n",
		"a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (% *) RETURN (CHILDREN)\r\n", "a LSUB \"\" *\r\n",
		"a IDLE\r\nDONE\r\n", "a STATUS INBOX (MESSAGES SIZE)\r\n", "a UID SEARCH OR 1:* UNSEEN TEXT {3+}\r\nabc\r\n",
		"a STORE 1 +FLAGS (\\Deleted)\r\nb EXPUNGE\r\nc CLOSE\r\n", "a COPY 1 foo\r\nb UID MOVE 1:* INBOX\r\n",
		"a CREATE foo/bar\r\nb RENAME foo baz\r\nc DELETE baz\r\n", "a ID (\"name\" NIL)\r\nb ENABLE CONDSTORE\r\n",
		"a STARTTLS\r\n", "{99999999999}\r\n",
		"a APPEND INBOX {3+}\r\nabc (\\Seen) ~{3+}\r\na\x00c\r\n", "a APPEND INBOX CATENATE (URL \"/INBOX/;UID=1/;SECTION=1/;PARTIAL=1.2\" TEXT {1+}\r\nx)\r\n",
		"a SELECT INBOX\r\nb SEARCH RETURN (PARTIAL 1:2 UPDATE CONTEXT) ALL\r\nc CANCELUPDATE \"b\" {1+}\r\nx\r\n",
		"a SELECT INBOX\r\nb FETCH 1:* (PREVIEW (LAZY) SNIPPET (LAZY=FUZZY) PREVIEW PREVIEW (FUZZY))\r\n",
		"a REPLACE 1 INBOX {3+}\r\nabc\r\n", "a COMPRESS DEFLATE\r\n", "a LOGIN {3+}\r\n", "\r\n\r\n* * *\r\n", "a UID\r\n",
		"a SETMETADATA INBOX (/private/comment {3+}\r\nabc /shared/x ~{2+}\r\na\x00 /private/y NIL)\r\nb GETMETADATA (DEPTH infinity MAXSIZE 2) \"\" (/private /shared)\r\nc CREATE J (USE (\\Junk))\r\n",
		"a ENABLE IMAP4rev2 UTF8=ACCEPT\r\nb CREATE \"Entw\xc3\xbcrfe\"\r\nc APPEND INBOX UTF8 (~{3+}\r\nabc)\r\nd SEARCH CHARSET X ALL\r\ne STATUS INBOX (DELETED)\r\n",
	} {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, loggedIn bool, data []byte) {
		// A hang is a failure: report the input and where it is stuck.
		watchdog := time.AfterFunc(10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("hang on input %q:\n%s", data, buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		ts := newTestServer(t, func(o *Options) { o.MaxLineLength = 1024 })
		ts.appendMsg("alice", "INBOX", testMsg)
		cli, srv := net.Pipe()
		ts.srv.ServeConn(srv)
		drained := make(chan struct{})
		go func() {
			io.Copy(io.Discard, cli)
			close(drained)
		}()
		if loggedIn {
			io.WriteString(cli, "x LOGIN alice secret\r\ny SELECT INBOX\r\n")
		}
		cli.Write(data)
		cli.Close()
		<-drained
		ts.srv.Close()
		if log := ts.log.String(); strings.Contains(log, "Panic") || strings.Contains(log, "BUG") {
			t.Fatalf("input %q:\n%s", data, log)
		}
	})
}
