package smtp

import (
	"bufio"
	"strconv"
	"strings"
)

// Reply is one SMTP reply: a three-digit code, an optional enhanced status
// code (RFC 3463, "2.1.5") and one or more lines of text.
type Reply struct {
	Code     int
	Enhanced string
	Lines    []string
}

// R builds a one-line reply.
func R(code int, enhanced, text string) Reply {
	return Reply{Code: code, Enhanced: enhanced, Lines: []string{text}}
}

// Temporary reports a 4xx reply.
func (r Reply) Temporary() bool { return r.Code >= 400 && r.Code < 500 }

// Permanent reports a 5xx reply.
func (r Reply) Permanent() bool { return r.Code >= 500 }

// String is the reply as it goes on the wire, without the final CRLF and
// with CRLF between lines.
func (r Reply) String() string {
	var b strings.Builder
	r.write(&b)
	s := b.String()
	return strings.TrimSuffix(s, "\r\n")
}

type stringWriter interface {
	WriteString(string) (int, error)
}

func (r Reply) write(w stringWriter) {
	lines := r.Lines
	if len(lines) == 0 {
		lines = []string{""}
	}
	code := strconv.Itoa(r.Code)
	for i, l := range lines {
		sep := "-"
		if i == len(lines)-1 {
			sep = " "
		}
		w.WriteString(code)
		w.WriteString(sep)
		if r.Enhanced != "" {
			w.WriteString(r.Enhanced)
			w.WriteString(" ")
		}
		w.WriteString(sanitize(l))
		w.WriteString("\r\n")
	}
}

// sanitize keeps a reply line on one line: CR and LF in text (which may
// echo client input) become spaces.
func sanitize(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// Writer buffers replies; Flush sends them. Pipelined commands get their
// replies in one write (RFC 2920).
type Writer struct {
	w *bufio.Writer
}

// NewWriter returns a Writer on w.
func NewWriter(w *bufio.Writer) *Writer { return &Writer{w: w} }

// Reply buffers r.
func (w *Writer) Reply(r Reply) { r.write(w.w) }

// Flush sends the buffered replies.
func (w *Writer) Flush() error { return w.w.Flush() }
