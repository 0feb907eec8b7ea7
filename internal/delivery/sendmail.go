package delivery

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/smtp"
	"os/exec"
	"strings"
	"time"
)

// DefaultSendmailPath is sendmail_path's default.
const DefaultSendmailPath = "/usr/sbin/sendmail"

// sendTimeout bounds one outgoing message.
const sendTimeout = 2 * time.Minute

// Sendmail sends outgoing mail (Sieve redirect, vacation, reject, notify)
// as Dovecot does: through submission_host over SMTP when set, else by
// running sendmail_path.
type Sendmail struct {
	// Path is sendmail_path ("" is DefaultSendmailPath).
	Path string
	// SubmissionHost is submission_host: "host[:port]" (port 25 when
	// absent).
	SubmissionHost string
	// Hostname is sent in EHLO.
	Hostname string
}

// Send implements sieve.Mailer.
func (s Sendmail) Send(ctx context.Context, from string, to []string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	for _, a := range append([]string{from}, to...) {
		if strings.ContainsAny(a, "\r\n<> ") {
			return fmt.Errorf("send mail: invalid address %q", a)
		}
	}
	if s.SubmissionHost != "" {
		return s.submit(ctx, from, to, msg)
	}
	return s.sendmail(ctx, from, to, msg)
}

func (s Sendmail) sendmail(ctx context.Context, from string, to []string, msg []byte) error {
	path := s.Path
	if path == "" {
		path = DefaultSendmailPath
	}
	argv := strings.Fields(path)
	sender := from
	if sender == "" {
		sender = "<>"
	}
	args := append(append(argv[1:], "-i", "-f", sender, "--"), to...)
	cmd := exec.CommandContext(ctx, argv[0], args...)
	cmd.Stdin = bytes.NewReader(msg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sendmail %s: %w: %s", argv[0], err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func (s Sendmail) submit(ctx context.Context, from string, to []string, msg []byte) error {
	addr := s.SubmissionHost
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, "25")
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("submission %s: %w", addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(nc, host)
	if err != nil {
		nc.Close()
		return fmt.Errorf("submission %s: %w", addr, err)
	}
	defer c.Close()
	if err := s.transaction(c, from, to, msg); err != nil {
		return fmt.Errorf("submission %s: %w", addr, err)
	}
	return nil
}

func (s Sendmail) transaction(c *smtp.Client, from string, to []string, msg []byte) error {
	hn := s.Hostname
	if hn == "" {
		hn = "localhost"
	}
	if err := c.Hello(hn); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
