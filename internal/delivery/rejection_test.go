package delivery

import (
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// captureMailer records what would be handed to sendmail_path.
type captureMailer struct {
	from string
	to   []string
	msg  []byte
	err  error
}

func (c *captureMailer) Send(_ context.Context, from string, to []string, msg []byte) error {
	c.from, c.to, c.msg = from, to, msg
	return c.err
}

var (
	reRejID       = regexp.MustCompile(`(?m)^Message-ID: <[^>]*>\r$`)
	reRejDate     = regexp.MustCompile(`(?m)^Date: .*\r$`)
	reRejBoundary = regexp.MustCompile(`\d+/mail\.example\.net`)
)

// TestRejectionGolden: the report for an over-quota message is what
// Dovecot 2.3.19's dovecot-lda (without -e) handed to its sendmail_path
// for the same input (testdata/*.dovecot, Message-ID, Date and the
// boundary's pid masked).
func TestRejectionGolden(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"rejection-quota", "rejection-crlf"} {
		in, err := os.ReadFile("testdata/" + name + ".eml")
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile("testdata/" + name + ".dovecot")
		if err != nil {
			t.Fatal(err)
		}
		m := &captureMailer{}
		r := Rejection{Mailer: m, Postmaster: "postmaster@mail.example.net", Hostname: "mail.example.net",
			Now: func() time.Time { return time.Date(2026, 11, 22, 0, 37, 26, 0, time.UTC) }}
		res := Result{Code: 552, Enhanced: "5.2.2", Text: "Quota exceeded (mailbox for user is full)"}
		if err := r.Send(context.Background(), Envelope{Sender: "s@example.org"}, "bob@mail.example.net", spoolOf(string(in)), res); err != nil {
			t.Fatal(err)
		}
		if m.from != "" || len(m.to) != 1 || m.to[0] != "s@example.org" {
			t.Errorf("%s: sent from %q to %q", name, m.from, m.to)
		}
		got := reRejID.ReplaceAllString(string(m.msg), "Message-ID: <ID>\r")
		got = reRejDate.ReplaceAllString(got, "Date: DATE\r")
		got = reRejBoundary.ReplaceAllString(got, "PID/mail.example.net")
		if got != string(want) {
			t.Errorf("%s differs from Dovecot's:\n--- got\n%q\n--- want\n%q", name, got, want)
		}
	}
}

// TestRejectionNotSent: no report for an Auto-Submitted message or a null
// sender (Dovecot drops both with a log line); a mailer failure is an
// error, so the LDA fails temporarily.
func TestRejectionNotSent(t *testing.T) {
	t.Parallel()
	res := Result{Code: 552, Enhanced: "5.2.2", Text: "Quota exceeded (mailbox for user is full)"}
	for _, tc := range []struct {
		sender, msg string
	}{
		{"s@example.org", "Auto-Submitted: auto-replied\r\nSubject: x\r\n\r\nx\r\n"},
		{"", "Subject: x\r\n\r\nx\r\n"},
	} {
		m := &captureMailer{}
		if err := (Rejection{Mailer: m}).Send(context.Background(), Envelope{Sender: tc.sender}, "bob@x", spoolOf(tc.msg), res); err != nil || m.msg != nil {
			t.Errorf("sender %q, %q: err %v, sent %q", tc.sender, tc.msg, err, m.msg)
		}
	}
	m := &captureMailer{err: errors.New("sendmail exited 1")}
	err := (Rejection{Mailer: m}).Send(context.Background(), Envelope{Sender: "s@x"}, "bob@x", spoolOf("Subject: x\r\n\r\n"), res)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("mailer failure: %v", err)
	}
}

// FuzzRejection renders reports for arbitrary messages (the header is
// copied from untrusted input): no panic, a well-formed end, and no
// Content-Type of the rejected message in the copied header.
func FuzzRejection(f *testing.F) {
	for _, name := range []string{"rejection-quota", "rejection-crlf"} {
		if b, err := os.ReadFile("testdata/" + name + ".eml"); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("Content-Type: a\r\n\tb\r\nX: y\r\n"))
	f.Add([]byte("no header\x00\xff"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		m := &captureMailer{}
		r := Rejection{Mailer: m, Postmaster: "postmaster@x", Hostname: "h"}
		res := Result{Code: 552, Enhanced: "5.2.2", Text: "Quota exceeded"}
		if err := r.Send(context.Background(), Envelope{Sender: "s@x"}, "r@x", spoolOf(string(msg)), res); err != nil {
			t.Fatal(err)
		}
		if m.msg == nil {
			return // Auto-Submitted
		}
		out := string(m.msg)
		if !strings.HasSuffix(out, "--\r\n") {
			t.Fatalf("report does not end with the closing boundary: %q", out)
		}
		_, copied, _ := strings.Cut(out, "Content-Type: message/rfc822\r\n\r\n")
		for _, l := range strings.Split(copied, "\n") {
			if strings.HasPrefix(strings.ToLower(l), "content-type:") {
				t.Fatalf("Content-Type copied: %q", copied)
			}
		}
	})
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"10M", "1 kB", "unlimited", "0", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseSize(s); err == nil && n < 0 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

// TestRejectionMDNGolden: the rejection of a Sieve reject is what Debian's
// dovecot-lda with Pigeonhole handed to its sendmail_path for the same
// input and script (reject "I do not want this.\nReally."), Message-ID,
// Date and the boundary's pid masked.
func TestRejectionMDNGolden(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile("testdata/rejection-sieve.eml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("testdata/rejection-sieve.dovecot")
	if err != nil {
		t.Fatal(err)
	}
	m := &captureMailer{}
	r := Rejection{Mailer: m, Postmaster: "postmaster@example.net", Hostname: "mail.example.net"}
	if err := r.SendMDN(context.Background(), Envelope{Sender: "s@example.org"}, "bob@mail.example.net", spoolOf(string(in)), "I do not want this.\nReally."); err != nil {
		t.Fatal(err)
	}
	got := reRejID.ReplaceAllString(string(m.msg), "Message-ID: <ID>\r")
	got = reRejDate.ReplaceAllString(got, "Date: DATE\r")
	got = reRejBoundary.ReplaceAllString(got, "PID/mail.example.net")
	if m.from != "" || got != string(want) {
		t.Errorf("from %q, report:\n%q\nwant:\n%q", m.from, got, want)
	}
}
