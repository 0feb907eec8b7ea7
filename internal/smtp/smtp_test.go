package smtp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseMailRcpt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, err string
		rcpt          bool
		params        int
	}{
		{in: "FROM:<a@b.example>", want: "a@b.example"},
		{in: "from:<>", want: ""},
		{in: "FROM: <a@b> BODY=8BITMIME SIZE=10", want: "a@b", params: 2},
		{in: "FROM:<@r1,@r2:a@b>", want: "a@b"},
		{in: `FROM:<"a b"@c>`, want: `"a b"@c`},
		{in: "FROM:<x y>", err: "Invalid character in localpart"},
		{in: "FROM:a@b", err: "Missing '<' at beginning of path"},
		{in: "FROM:<a@b", err: "Missing '>' at end of path"},
		{in: "FROM:<a@b>x", err: "Invalid character after path"},
		{in: "TO:<alice>", want: "alice", rcpt: true},
		{in: "TO:<alice+box@Example.NET>", want: "alice+box@Example.NET", rcpt: true},
		{in: "TO:<>", err: "Null path not allowed", rcpt: true},
		{in: "TO:alice", err: "Missing '<' at beginning of path", rcpt: true},
		{in: "TO:<a@b> NOTIFY=NEVER", want: "a@b", rcpt: true, params: 1},
		{in: "TO:<a@b> =x", err: "Invalid parameter syntax", rcpt: true},
		{in: "TOO:<a@b>", err: "Invalid parameters", rcpt: true},
	}
	for _, tc := range tests {
		parse := ParseMail
		if tc.rcpt {
			parse = ParseRcpt
		}
		a, params, err := parse(tc.in)
		if tc.err != "" {
			var pe *PathError
			if !errors.As(err, &pe) || pe.Msg != tc.err {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || a.String() != tc.want || len(params) != tc.params {
			t.Errorf("%q = %q %v %v, want %q with %d params", tc.in, a.String(), params, err, tc.want, tc.params)
		}
	}
}

func TestReplyFormat(t *testing.T) {
	t.Parallel()
	r := Reply{Code: 250, Lines: []string{"mail.example.net", "8BITMIME", "PIPELINING"}}
	if got, want := r.String(), "250-mail.example.net\r\n250-8BITMIME\r\n250 PIPELINING"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r = R(550, "5.1.1", "<x\r\ny> User doesn't exist")
	if got, want := r.String(), "550 5.1.1 <x  y> User doesn't exist"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !r.Permanent() || r.Temporary() {
		t.Error("550 is permanent")
	}
}

func TestReadLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 100)
	r := NewReader(bufio.NewReaderSize(strings.NewReader("LHLO a\r\nNOOP\n"+long+"\r\nQUIT\r\nrest"), 16), 50)
	for _, want := range []string{"LHLO a", "NOOP"} {
		if got, err := r.ReadLine(); got != want || err != nil {
			t.Fatalf("got %q %v, want %q", got, err, want)
		}
	}
	if _, err := r.ReadLine(); err != ErrLineTooLong {
		t.Fatalf("long line: err = %v", err)
	}
	if got, err := r.ReadLine(); got != "QUIT" || err != nil {
		t.Fatalf("after long line got %q %v", got, err)
	}
	if _, err := r.ReadLine(); err != io.ErrUnexpectedEOF {
		t.Fatalf("partial line: err = %v", err)
	}
}

func TestReadData(t *testing.T) {
	t.Parallel()
	in := "Subject: x\r\n\r\n..dot\r\n.x\nbare\n.\r\nNEXT\r\n"
	r := NewReader(bufio.NewReaderSize(strings.NewReader(in), 16), 0)
	var b bytes.Buffer
	n, err := r.ReadData(&b, 0)
	if err != nil || b.String() != "Subject: x\r\n\r\n.dot\r\nx\nbare\n" || n != int64(b.Len()) {
		t.Fatalf("got %q %d %v", b.String(), n, err)
	}
	if l, _ := r.ReadLine(); l != "NEXT" {
		t.Fatalf("after data got %q", l)
	}
	r = NewReader(bufio.NewReader(strings.NewReader("0123456789\r\n.\r\nNEXT\r\n")), 0)
	b.Reset()
	if _, err := r.ReadData(&b, 5); err != ErrTooBig {
		t.Fatalf("limit: err = %v", err)
	}
	if l, _ := r.ReadLine(); l != "NEXT" {
		t.Fatalf("after too big got %q", l)
	}
	r = NewReader(bufio.NewReader(strings.NewReader("abc\r\n")), 0)
	if _, err := r.ReadData(&b, 0); err != io.ErrUnexpectedEOF {
		t.Fatalf("eof: err = %v", err)
	}
}

type failWriter struct{ after int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.after <= 0 {
		return 0, errors.New("disk full")
	}
	f.after -= len(p)
	return len(p), nil
}

func TestReadChunk(t *testing.T) {
	t.Parallel()
	r := NewReader(bufio.NewReader(strings.NewReader("0123456789NEXT\r\n")), 0)
	var b bytes.Buffer
	if n, err := r.ReadChunk(&b, 4, 0, 0); n != 4 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := r.ReadChunk(&failWriter{}, 3, 4, 0); err == nil || errors.Is(err, ErrTooBig) {
		t.Fatalf("failing writer: err = %v", err)
	}
	if _, err := r.ReadChunk(&b, 3, 7, 8); err != ErrTooBig {
		t.Fatalf("limit: err = %v", err)
	}
	if l, _ := r.ReadLine(); l != "NEXT" {
		t.Fatalf("after chunks got %q", l)
	}
	if _, err := r.ReadChunk(&b, 10, 0, 0); err != io.ErrUnexpectedEOF {
		t.Fatalf("short chunk: err = %v", err)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"FROM:<a@b>", "TO:<\"x\\\"y\"@[1.2.3.4]> ORCPT=rfc822;a@b", "FROM:<@a,@b:c@d> SIZE=1", "TO:<>", "FROM:<a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (Address, []Param, error){ParseMail, ParseRcpt} {
			a, _, err := parse(s)
			if err != nil {
				continue
			}
			// What we print, we parse back to the same address.
			if a.IsNull() {
				continue
			}
			b, _, err := ParseRcpt("TO:<" + a.String() + ">")
			if err != nil || b != a {
				t.Fatalf("%q: %q reparsed as %q, %v", s, a.String(), b.String(), err)
			}
		}
	})
}

func FuzzReadData(f *testing.F) {
	f.Add([]byte("a\r\n..b\r\n.\r\nQUIT\r\n"), int64(0))
	f.Add([]byte(".\n"), int64(1))
	f.Fuzz(func(t *testing.T, in []byte, max int64) {
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(in), 16), 0)
		var b bytes.Buffer
		n, err := r.ReadData(&b, max)
		if n != int64(b.Len()) {
			t.Fatalf("n = %d, wrote %d", n, b.Len())
		}
		if err == nil && max > 0 && n > max {
			t.Fatalf("wrote %d over limit %d", n, max)
		}
	})
}
