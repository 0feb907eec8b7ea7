package imapserver

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/base64"
	"io"
	"os"
	"strings"
	"testing"

	"roost/internal/deflate"
)

// compressClient switches a logged-in test connection to DEFLATE after
// COMPRESS's tagged OK. Its commands end with a sync flush (Go's
// flate.Writer.Flush); its reader is package deflate's, which returns
// what the server flushed without waiting for more.
func (c *tconn) compress() *flate.Writer {
	c.t.Helper()
	c.cmd("z COMPRESS DEFLATE").ok()
	if c.br.Buffered() > 0 {
		c.t.Fatalf("server sent %d bytes after the tagged OK", c.br.Buffered())
	}
	c.zbuf = new(bytes.Buffer)
	fw, err := flate.NewWriter(c.zbuf, flate.DefaultCompression)
	if err != nil {
		c.t.Fatal(err)
	}
	c.br = bufio.NewReader(deflate.NewReader(c.nc, nil))
	c.w = fw
	return fw
}

func TestCompress(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.appendMsg("alice", "INBOX", "Subject: hi\r\n\r\nhello\r\n")
		c := ts.login()
		c.cmd("a1 CAPABILITY").ok().has("* CAPABILITY " + postLoginCaps)
		c.compress()
		c.cmd("a2 SELECT INBOX").ok().has("* 1 EXISTS")
		c.cmd("a3 FETCH 1 (BODY.PEEK[TEXT])").ok().has("* 1 FETCH (BODY[TEXT] {7}\r\nhello\r\n)")
		c.cmd("a4 COMPRESS DEFLATE").status("NO [COMPRESSIONACTIVE]")
		c.cmd("a5 CAPABILITY").ok()
		// A literal, synchronising and not, through the compressed stream.
		c.send("a6 APPEND INBOX {12}")
		c.expect("+ OK")
		c.send("Subject: x\r\n")
		c.collect("a6").ok()
		c.cmd("a7 APPEND INBOX {12+}\r\nSubject: y\r\n").ok()
		c.cmd("a8 LOGOUT").ok().has("* BYE Logging out")
	})
}

func TestCompressErrors(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.cmd("a0 COMPRESS DEFLATE").status("BAD Error in IMAP command received by server.")
	c.cmd("L LOGIN alice secret").ok()
	c.cmd("a1 COMPRESS").status("BAD Error in IMAP command COMPRESS: Invalid arguments.")
	c.cmd("a2 COMPRESS DEFLATE x").status("BAD Error in IMAP command COMPRESS: Invalid arguments.")
	c.cmd("a3 COMPRESS FOO").status("NO Unknown compression mechanism.")
	c.cmd("a4 COMPRESS deflate").status("OK Begin compression.")
}

// TestCompressPartialFlush is a client compressing as C zlib does with
// Z_PARTIAL_FLUSH after each command, waiting for each answer: the
// stream stops inside a byte after every command, so a server whose
// inflater waited for more input would hang here (the test's read
// deadline turns a hang into a failure).
func TestCompressPartialFlush(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/compress-partial.txt")
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t)
	ts.appendMsg("alice", "INBOX", "Subject: hi\r\n\r\nhello\r\n")
	c := ts.login()
	c.cmd("a1 COMPRESS DEFLATE").ok()
	c.br = bufio.NewReader(deflate.NewReader(c.nc, nil))
	want := map[string]string{"a2": "OK", "a3": "OK [READ-WRITE]", "a4": "OK", "a5": "OK", "a6": "OK"}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		b64, command, _ := strings.Cut(line, " ")
		comp, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		c.nc.Write(comp)
		tag, _, _ := strings.Cut(command, " ")
		c.collect(tag).status(want[tag])
	}
}

// writeCompressed is tconn.sendRaw once compress was called: one write
// per command (net.Pipe has no buffer, so a flush split over two writes
// could meet the server writing its answer).
func (c *tconn) writeCompressed(s string) error {
	if _, err := io.WriteString(c.w, s); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	_, err := c.nc.Write(c.zbuf.Bytes())
	c.zbuf.Reset()
	return err
}
