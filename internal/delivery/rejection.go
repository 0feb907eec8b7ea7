package delivery

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"roost/internal/logging"
	"roost/internal/varexpand"
)

// Dovecot's defaults for the rejection texts (rejection_subject,
// rejection_reason).
const (
	DefaultRejectionSubject = "Rejected: %s"
	DefaultRejectionReason  = "Your message to <%t> was automatically rejected:%n%r"
)

// Mailer sends a message (Sendmail implements it).
type Mailer interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Rejection sends the delivery status notification dovecot-lda sends for
// a permanent failure when it is not run with -e (Dovecot's
// mail_send_rejection with a DSN): from the null sender to the envelope
// sender, with the reason, a message/delivery-status part and the
// rejected message's header without its Content-Type.
type Rejection struct {
	Mailer Mailer
	// Postmaster is postmaster_address, expanded (From of the report).
	Postmaster string
	// Hostname is the hostname setting (Reporting-MTA, the boundary).
	Hostname string
	// Subject and Reason are rejection_subject and rejection_reason
	// ("" is Dovecot's default): %s the original Subject, %t the
	// recipient, %r the reason, %n a line break.
	Subject, Reason string
	Logger          *logging.Logger
	Now             func() time.Time
}

// Send reports res (a permanent failure) for msg to the envelope sender.
// rcpt is the final recipient address. As Dovecot, nothing is sent for an
// Auto-Submitted message or a null sender (both logged); the message is
// then dropped all the same. An error means the report could not be
// handed over: the caller fails temporarily so that the MTA retries.
func (r Rejection) Send(ctx context.Context, env Envelope, rcpt string, msg Message, res Result) error {
	r.logger().Infof("msgid=%s: rejected: %s", headerValue(msg, "Message-ID"), res.Text)
	return r.send(ctx, env, rcpt, msg, res.Text, res.Enhanced)
}

// SendMDN reports a Sieve reject (RFC 5429) to the envelope sender: the
// same message with a message/disposition-notification part instead of
// the delivery status, as Pigeonhole has Dovecot send it.
func (r Rejection) SendMDN(ctx context.Context, env Envelope, rcpt string, msg Message, reason string) error {
	return r.send(ctx, env, rcpt, msg, reason, "")
}

func (r Rejection) logger() *logging.Logger {
	if r.Logger == nil {
		return logging.NewWriter(io.Discard, false)
	}
	return r.Logger
}

// send is Dovecot's mail_send_rejection: a DSN with status, or an MDN
// when status is "".
func (r Rejection) send(ctx context.Context, env Envelope, rcpt string, msg Message, reason, status string) error {
	log := r.logger()
	id := headerValue(msg, "Message-ID")
	if v := headerValue(msg, "Auto-Submitted"); v != "" && !strings.EqualFold(v, "no") {
		log.Infof("msgid=%s: Auto-submitted message discarded: %s", id, reason)
		return nil
	}
	if env.Sender == "" {
		log.Infof("msgid=%s: Return-Path missing, rejection reason: %s", id, reason)
		return nil
	}
	report, err := r.render(env, rcpt, msg, reason, status)
	if err != nil {
		return fmt.Errorf("build rejection: %w", err)
	}
	if err := r.Mailer.Send(ctx, "", []string{env.Sender}, report); err != nil {
		log.Errorf("msgid=%s: Temporary failure in rejection: %v", id, err)
		return err
	}
	if status != "" { // Pigeonhole logs a Sieve rejection itself
		log.Infof("msgid=%s: sent rejection to %s", id, env.Sender)
	}
	return nil
}

// render builds the report as Dovecot 2.3's mail_send_rejection does: a
// delivery status notification with status, a disposition notification
// (Sieve reject) without.
func (r Rejection) render(env Envelope, rcpt string, msg Message, text, status string) ([]byte, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	t := now()
	boundary := strconv.Itoa(os.Getpid()) + "/" + r.Hostname
	host, _ := os.Hostname()
	var b bytes.Buffer
	fmt.Fprintf(&b, "Message-ID: <roost-%d-%d-0@%s>\r\n", t.Unix(), t.Nanosecond()/1000, host)
	fmt.Fprintf(&b, "Date: %s\r\n", t.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	fmt.Fprintf(&b, "From: Postmaster <%s>\r\n", clean(r.Postmaster))
	fmt.Fprintf(&b, "To: <%s>\r\n", clean(env.Sender))
	b.WriteString("MIME-Version: 1.0\r\n")
	reportType := "delivery-status"
	if status == "" {
		reportType = "disposition-notification"
	}
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=%s;\r\n\tboundary=\"%s\"\r\n", reportType, boundary)
	text = crlf(text)
	vars := varexpand.Map{"s": headerValue(msg, "Subject"), "subject": headerValue(msg, "Subject"),
		"t": rcpt, "to": rcpt, "r": text, "reason": text, "n": "\r\n", "crlf": "\r\n"}
	subject, err := varexpand.Expand(orDefault(r.Subject, DefaultRejectionSubject), vars)
	if err != nil {
		return nil, fmt.Errorf("rejection_subject: %w", err)
	}
	reason, err := varexpand.Expand(orDefault(r.Reason, DefaultRejectionReason), vars)
	if err != nil {
		return nil, fmt.Errorf("rejection_reason: %w", err)
	}
	fmt.Fprintf(&b, "Subject: %s\r\n", clean(subject))
	b.WriteString("Auto-Submitted: auto-replied (rejected)\r\nPrecedence: bulk\r\n")
	b.WriteString("\r\nThis is a MIME-encapsulated message\r\n\r\n")
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Disposition: inline\r\n"+
		"Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", boundary, reason)
	if status != "" {
		writeDSN(&b, boundary, r.Hostname, rcpt, msg, status)
	} else {
		writeMDN(&b, boundary, r.Hostname, rcpt, msg)
	}
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: message/rfc822\r\n\r\n", boundary)
	if err := writeHeaderNoContentType(&b, msg); err != nil {
		return nil, err
	}
	fmt.Fprintf(&b, "\r\n\r\n--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// writeDSN writes the message/delivery-status part (RFC 3464).
func writeDSN(b *bytes.Buffer, boundary, host, rcpt string, msg Message, status string) {
	fmt.Fprintf(b, "--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(b, "Reporting-MTA: dns; %s\r\n", host)
	if orig := headerValue(msg, "Original-Recipient"); orig != "" {
		fmt.Fprintf(b, "Original-Recipient: rfc822; %s\r\n", clean(orig))
	}
	fmt.Fprintf(b, "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n", clean(rcpt), status)
}

// writeMDN writes the message/disposition-notification part (RFC 8098)
// of a Sieve rejection.
func writeMDN(b *bytes.Buffer, boundary, host, rcpt string, msg Message) {
	fmt.Fprintf(b, "--%s\r\nContent-Type: message/disposition-notification\r\n\r\n", boundary)
	fmt.Fprintf(b, "Reporting-UA: %s; Dovecot Mail Delivery Agent\r\n", host)
	if orig := headerValue(msg, "Original-Recipient"); orig != "" {
		fmt.Fprintf(b, "Original-Recipient: rfc822; %s\r\n", clean(orig))
	}
	fmt.Fprintf(b, "Final-Recipient: rfc822; %s\r\n", clean(rcpt))
	if id := headerValue(msg, "Message-ID"); id != "" {
		fmt.Fprintf(b, "Original-Message-ID: %s\r\n", clean(id))
	}
	b.WriteString("Disposition: automatic-action/MDN-sent-automatically; deleted\r\n")
}

// crlf turns lone LFs into CRLF.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// maxRejectedHeader bounds the header copied into a report.
const maxRejectedHeader = 1 << 20

// writeHeaderNoContentType copies msg's header, LF line ends, without
// Content-Type (the body is not included, so a multipart type would
// mislead), ending with the empty line, as Dovecot's header filter does.
func writeHeaderNoContentType(w *bytes.Buffer, msg Message) error {
	br := bufio.NewReader(io.NewSectionReader(msg, 0, min(msg.Size(), maxRejectedHeader)))
	skip := false
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !skip {
				w.WriteString(line + "\n")
			}
		} else {
			name, _, _ := strings.Cut(line, ":")
			skip = strings.EqualFold(strings.TrimSpace(name), "Content-Type")
			if !skip {
				w.WriteString(line + "\n")
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read header: %w", err)
		}
	}
	w.WriteString("\n")
	return nil
}
