package deflate

import (
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestConnPeerFlushesEveryCommand is a client that compresses like
// Python's zlib with Z_PARTIAL_FLUSH (and Z_SYNC_FLUSH) after each
// command and waits for the answer before sending the next. A server
// whose decompressor waited for more input before returning a flushed
// command would deadlock here; the deadline only turns a hang into a
// failure.
func TestConnPeerFlushesEveryCommand(t *testing.T) {
	t.Parallel()
	plain, streams := readPythonStreams(t)
	for _, s := range streams {
		t.Run(strings.ReplaceAll(s.name, " ", "-"), func(t *testing.T) {
			t.Parallel()
			client, server := net.Pipe()
			guard := time.Now().Add(time.Minute)
			client.SetDeadline(guard)
			server.SetDeadline(guard)
			done := make(chan error, 1)
			go func() { done <- serveSegments(server, plain) }()
			cr := bufio.NewReader(NewReader(client, nil))
			for i, seg := range s.segs {
				if _, err := client.Write(seg); err != nil {
					t.Fatalf("write segment %d: %v", i, err)
				}
				if len(plain[i]) == 0 {
					continue // a flush with nothing to answer
				}
				line, err := cr.ReadString('\n')
				if want := fmt.Sprintf("* OK %d %d\r\n", i, len(plain[i])); err != nil || line != want {
					t.Fatalf("segment %d: answer %q, %v; want %q", i, line, err, want)
				}
			}
			client.Close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// serveSegments reads each expected plaintext through a Conn and answers
// it with one compressed, flushed line.
func serveSegments(nc net.Conn, plain [][]byte) error {
	c, err := NewConn(nc, flate.DefaultCompression, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	for i, want := range plain {
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil {
			return fmt.Errorf("server: segment %d: %w", i, err)
		}
		if string(got) != string(want) {
			return fmt.Errorf("server: segment %d differs", i)
		}
		if len(want) == 0 {
			continue
		}
		fmt.Fprintf(c, "* OK %d %d\r\n", i, len(want))
		if err := c.Flush(); err != nil {
			return fmt.Errorf("server: flush: %w", err)
		}
	}
	return nil
}

// TestConnRoundTrip runs a line conversation with Conn on both ends.
func TestConnRoundTrip(t *testing.T) {
	t.Parallel()
	a, b := net.Pipe()
	guard := time.Now().Add(time.Minute)
	a.SetDeadline(guard)
	b.SetDeadline(guard)
	done := make(chan error, 1)
	go func() {
		c, err := NewConn(b, flate.BestSpeed, nil)
		if err != nil {
			done <- err
			return
		}
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				done <- nil
				return
			}
			fmt.Fprintf(c, "* echo %s", line)
			c.Flush()
		}
	}()
	c, err := NewConn(a, flate.BestCompression, nil)
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for i := range 200 {
		cmd := fmt.Sprintf("a%d NOOP %s\r\n", i, strings.Repeat("x", i*37))
		c.Write([]byte(cmd))
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if line, err := br.ReadString('\n'); err != nil || line != "* echo "+cmd {
			t.Fatalf("command %d: %q, %v", i, line, err)
		}
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestStdlibBlocksAtPartialFlush shows why Reader exists: compress/flate
// needs input past a Z_PARTIAL_FLUSH before it returns the data before
// it (segReader reports that instead of blocking).
func TestStdlibBlocksAtPartialFlush(t *testing.T) {
	t.Parallel()
	plain, streams := readPythonStreams(t)
	for _, s := range streams {
		if !strings.HasPrefix(s.name, "partial ") {
			continue
		}
		sr := &segReader{segs: s.segs, chunk: 1 << 20}
		r := flate.NewReader(sr)
		for i, want := range plain {
			sr.allowed = i + 1
			if _, err := io.ReadFull(r, make([]byte, len(want))); err != nil {
				return // blocked, as documented in doc.go
			}
		}
	}
	t.Skip("compress/flate no longer waits at partial flushes; doc.go's rationale is out of date")
}
