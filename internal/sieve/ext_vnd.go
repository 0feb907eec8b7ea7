package sieve

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"roost/internal/message"
)

// Pigeonhole's vendor extensions vnd.dovecot.environment (more
// environment items and the "env" variable namespace) and
// vnd.dovecot.report (the report command: an RFC 5965 abuse feedback
// report about the message). As in Pigeonhole, neither is enabled unless
// sieve_extensions or sieve_global_extensions names it.

// ActReport is the report action (vnd.dovecot.report).
const ActReport ActionKind = "report"

// vndCapabilities are the vendor extensions of this file, extlists
// (ext_extlists.go) and mboxmetadata/servermetadata (ext_metadata.go),
// none enabled by default, as in Pigeonhole.
var vndCapabilities = []string{"vnd.dovecot.environment", "vnd.dovecot.report", "extlists", "mboxmetadata", "servermetadata"}

// Report is a report action.
type Report struct {
	FeedbackType string
	Message      string
	Address      string
	HeadersOnly  bool
}

func vndSpecs() []*spec {
	return []*spec{
		{name: "report", ext: "vnd.dovecot.report", tags: map[string]tagDef{"headers_only": {}},
			pos:   []posDef{{aString, "feedback-type"}, {aString, "message"}, {aString, "address"}},
			check: checkReport, run: runReport},
	}
}

// vndEnvironment returns the items vnd.dovecot.environment adds.
func (r *runner) vndEnvironment(name string) (string, bool) {
	switch {
	case name == "vnd.dovecot.default-mailbox":
		return "INBOX", true
	case name == "vnd.dovecot.username":
		if u := r.user(); u != "" {
			return u, true
		}
		return "", true
	}
	if key, ok := strings.CutPrefix(name, "vnd.dovecot.config."); ok && key != "" {
		// Dovecot 2.3's sieve_env_NAME; 2.4's sieve_environment/NAME.
		for _, setting := range []string{"sieve_env_" + key, "sieve_environment/" + key} {
			if v, ok := r.config(setting); ok {
				return v, true
			}
		}
	}
	return "", false
}

// envVariable is ${env.NAME} (vnd.dovecot.environment): the environment
// item NAME, or with "_" read as "-" (variable names have no dashes).
func (r *runner) envVariable(name string) string {
	if v, ok := r.environment(name); ok {
		return v
	}
	v, _ := r.environment(strings.ReplaceAll(name, "_", "-"))
	return v
}

// validFeedbackType is RFC 5965 section 7.3's token: atext without "/".
func validFeedbackType(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>[]:;@\\,.\"/?=", c) >= 0 {
			return false
		}
	}
	return true
}

func checkReport(v *validator, n *node) {
	if ft := n.pos[0].Strings[0]; !hasVariables(v, ft) && !validFeedbackType(ft) {
		v.errorf(n.pos[0].Pos, "specified feedback type `%s' is invalid", ft)
	}
	if a := n.pos[2].Strings[0]; !hasVariables(v, a) {
		if _, ok := normalizeAddress(a); !ok {
			v.errorf(n.pos[2].Pos, "specified report address '%s' is invalid", a)
		}
	}
}

func runReport(r *runner, n *node) error {
	ft := strings.ToLower(r.pstr(n, 0))
	if !validFeedbackType(ft) {
		return r.errorf(n, "specified feedback type `%s' is invalid", ft)
	}
	to, ok := normalizeAddress(r.pstr(n, 2))
	if !ok {
		return r.errorf(n, "specified report address '%s' is invalid", r.pstr(n, 2))
	}
	rep := &Report{FeedbackType: ft, Message: r.pstr(n, 1), Address: to, HeadersOnly: n.has("headers_only")}
	return r.add(n, &Action{Kind: ActReport, Report: rep, Address: to})
}

// reportFrom is the From of a report: sieve_report_from (postmaster,
// sender, recipient, orig_recipient, user_email or an explicit address).
func reportFrom(env *Env, x *Executor, cfg *Config) string {
	v, _ := cfg.Raw["sieve_report_from"]
	switch v = strings.TrimSpace(v); v {
	case "sender":
		return env.Envelope.From
	case "recipient":
		return env.Envelope.To
	case "orig_recipient":
		if env.Envelope.OrigTo != "" {
			return env.Envelope.OrigTo
		}
		return env.Envelope.To
	case "user_email":
		return userEmail(env, cfg)
	case "", "postmaster":
		return x.postmaster(cfg)
	}
	return strings.TrimSpace(strings.Trim(v, "<>"))
}

// postmaster is postmaster_address, else postmaster@ the host name.
func (x *Executor) postmaster(cfg *Config) string {
	if x.Postmaster != "" {
		return x.Postmaster
	}
	if v, ok := cfg.Raw["postmaster_address"]; ok && v != "" {
		return v
	}
	return "postmaster@" + x.host()
}

// sendReport sends the abuse feedback report (RFC 5965) of a report
// action from the null sender, laid out as Pigeonhole's.
func (r *Result) sendReport(ctx context.Context, env *Env, x *Executor, a *Action, msg []byte) error {
	if x.Mailer == nil {
		return nil
	}
	cfg := env.settings()
	rep := a.Report
	root := message.Parse(msg)
	hdr := message.ParseHeader(msg[:root.Header.Physical])
	subject := ""
	for _, f := range hdr {
		if strings.EqualFold(string(f.Name), "subject") {
			subject = strings.TrimSpace(message.DecodedHeaderValue(f.Value))
			break
		}
	}
	now := env.now()
	host, _ := os.Hostname()
	boundary := fmt.Sprintf("%d/%s", os.Getpid(), host)
	var b strings.Builder
	b.WriteString("X-Sieve: Pigeonhole Sieve 0.5.19\r\n")
	fmt.Fprintf(&b, "Message-ID: <roost-sieve-%d-%d@%s>\r\n", now.Unix(), now.Nanosecond(), x.host())
	fmt.Fprintf(&b, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "From: %s\r\n", reportFromHeader(reportFrom(env, x, cfg)))
	fmt.Fprintf(&b, "To: <%s>\r\n", rep.Address)
	fmt.Fprintf(&b, "Subject: Report: %s\r\n", subject)
	b.WriteString("Auto-Submitted: auto-generated (report)\r\nMIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
	b.WriteString("This is a MIME-encapsulated message\r\n\r\n")
	charset, cte := "us-ascii", "7bit"
	if !isASCII(rep.Message) {
		charset, cte = "utf-8", "8bit"
	}
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: %s\r\n"+
		"Content-Disposition: inline\r\n\r\n%s\r\n\r\n", boundary, charset, cte, crlfText(rep.Message))
	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/feedback-report\r\n\r\n", boundary)
	fmt.Fprintf(&b, "Version: 1\r\nFeedback-Type: %s\r\nUser-Agent: roost Pigeonhole/0.5.19\r\n", rep.FeedbackType)
	if env.Envelope.From != "" {
		fmt.Fprintf(&b, "Original-Mail-From: <%s>\r\n", env.Envelope.From)
	}
	rcpt := env.Envelope.OrigTo
	if rcpt == "" {
		rcpt = env.Envelope.To
	}
	if rcpt != "" {
		fmt.Fprintf(&b, "Original-Rcpt-To: <%s>\r\n", rcpt)
	}
	user := cfg.UserEmail
	if user == "" {
		user = rcpt
	}
	if user != "" {
		fmt.Fprintf(&b, "Dovecot-Reporting-User: <%s>\r\n", user)
	}
	if rep.HeadersOnly {
		fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\nContent-Disposition: attachment\r\n\r\n", boundary)
		h := msg[:root.Header.Physical]
		h = bytes.TrimSuffix(h, []byte("\n"))
		h = bytes.TrimSuffix(h, []byte("\r"))
		b.Write(h) // without the empty line that ends the header
	} else {
		fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n", boundary)
		b.Write(msg)
	}
	fmt.Fprintf(&b, "\r\n\r\n--%s--\r\n", boundary)
	return x.Mailer.Send(ctx, "", []string{rep.Address}, []byte(b.String()))
}

// reportFromHeader is the From field: the postmaster as "Postmaster
// <...>", any other address bare in angle brackets.
func reportFromHeader(addr string) string {
	if strings.HasPrefix(strings.ToLower(addr), "postmaster@") {
		return "Postmaster <" + addr + ">"
	}
	return "<" + addr + ">"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// crlfText turns lone LFs into CRLF.
func crlfText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}
