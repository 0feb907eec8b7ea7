package imapserver

import (
	"io"
	"sync/atomic"
)

// byteCounter counts plaintext bytes for the "in=N out=M" of Dovecot's
// disconnect line; it is reset at login, as Dovecot's imap process only
// sees the post-login traffic.
type byteCounter struct {
	in, out atomic.Int64
}

type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// countWriter also arms a write deadline before each write, so a client
// that stops reading cannot hold its connection forever.
type countWriter struct {
	w      io.Writer
	n      *atomic.Int64
	before func()
}

func (c countWriter) Write(p []byte) (int, error) {
	c.before()
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}
