package sieve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"roost/internal/message"
)

// Executor is what executing a result needs.
type Executor struct {
	Deliverer Deliverer
	Mailer    Mailer
	Tracker   Tracker
	// Hostname names this host in Message-IDs.
	Hostname string
	// Rejecter sends the rejection of a reject action, as Pigeonhole
	// hands it to the LDA or LMTP (Dovecot's mail_send_rejection); nil
	// sends a rejection built here through Mailer.
	Rejecter Rejecter
	// Postmaster is postmaster_address (From of reports); "" is
	// postmaster@ Hostname.
	Postmaster string
	// Log receives a line for each redirect, vacation reply, discard,
	// notification and report performed, in Pigeonhole's words ("redirect
	// action: forwarded to <...>"); nil logs nothing.
	Log func(line string)
}

func (x *Executor) logf(format string, args ...any) {
	if x.Log != nil {
		x.Log(fmt.Sprintf(format, args...))
	}
}

// Rejecter sends the rejection of a message (reason: the reject
// action's text, msg: the message as edited so far; ereject for the
// ereject command, which the caller may refuse at the protocol level
// instead).
type Rejecter interface {
	Reject(ctx context.Context, reason string, ereject bool, msg []byte) error
}

// Execute performs the result's actions against env's message. A failed
// store falls back to INBOX with the unedited message (RFC 5228 section
// 2.10.6, as Pigeonhole); the first error is
// returned after every action was tried.
func (r *Result) Execute(ctx context.Context, env *Env, x *Executor) error {
	msg := r.Message
	if msg == nil && env.Message != nil {
		msg = env.Message.Bytes()
	}
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	orig := msg // a failed store keeps the message as received
	if env.Message != nil {
		orig = env.Message.Bytes()
	}
	keepDone := false
	notified := map[string]bool{} // notify recipients, once per message
	for _, a := range r.Actions {
		if a.executed {
			continue
		}
		a.executed = true
		amsg := msg
		if a.Message != nil {
			amsg = a.Message
		}
		switch a.Kind {
		case ActKeep, ActStore:
			err := x.Deliverer.Deliver(ctx, a.Mailbox, a.Create, a.Flags, amsg)
			if err != nil && a.Mailbox != "INBOX" && !keepDone {
				note(fmt.Errorf("failed to store into mailbox '%s': %w", a.Mailbox, err))
				err = x.Deliverer.Deliver(ctx, "INBOX", false, a.Flags, orig)
				keepDone = err == nil
			}
			if a.Mailbox == "INBOX" && err == nil {
				keepDone = true
			}
			note(err)
		case ActRedirect:
			if err := r.sendRedirect(ctx, env, x, a, amsg); err != nil {
				note(err)
			} else {
				x.logf("redirect action: forwarded to <%s>", a.Address)
			}
		case ActDiscard:
			x.logf("discard action: Marked message to be discarded if not explicitly delivered (discard action)")
		case ActReject:
			note(r.sendReject(ctx, env, x, a, msg))
		case ActVacation:
			note(r.sendVacation(ctx, env, x, a))
		case ActNotify:
			note(sendNotify(ctx, env, x, a, notified))
		case ActReport:
			if err := r.sendReport(ctx, env, x, a, msg); err != nil {
				note(err)
			} else {
				x.logf("report action: sent `%s' report to <%s>", a.Report.FeedbackType, a.Report.Address)
			}
		case ActPipe:
			note(r.executePipe(ctx, env, a, amsg))
		}
	}
	if r.ImplicitKeep && !keepDone {
		note(x.Deliverer.Deliver(ctx, "INBOX", false, r.KeepFlags, msg))
	}
	for _, d := range r.dups {
		if x.Tracker != nil {
			note(x.Tracker.Mark(ctx, d.id, env.now().Add(time.Duration(d.seconds)*time.Second)))
		}
	}
	return first
}

// redirectSender is the envelope sender of a redirect:
// sieve_redirect_envelope_from, except that a null sender stays null.
func redirectSender(env *Env, cfg *Config) string {
	if env.Envelope.From == "" {
		return ""
	}
	switch v := cfg.RedirectEnvelopeFrom; v {
	case "recipient":
		return env.Envelope.To
	case "orig_recipient":
		if env.Envelope.OrigTo != "" {
			return env.Envelope.OrigTo
		}
		return env.Envelope.To
	case "user_email":
		return userEmail(env, cfg)
	case "", "sender":
		return env.Envelope.From
	default:
		return strings.TrimSpace(strings.Trim(v, "<>"))
	}
}

// userEmail is sieve_user_email, else the final recipient.
func userEmail(env *Env, cfg *Config) string {
	if cfg.UserEmail != "" {
		return cfg.UserEmail
	}
	if env.User != "" {
		return env.User
	}
	return env.Envelope.To
}

// sendRedirect forwards msg with an X-Sieve-Redirected-From header naming
// the user, unless the message already carries that header for the user
// (a mail loop), as Pigeonhole does.
func (r *Result) sendRedirect(ctx context.Context, env *Env, x *Executor, a *Action, msg []byte) error {
	if x.Mailer == nil {
		return nil
	}
	cfg := env.settings()
	user := userEmail(env, cfg)
	for _, f := range message.ParseHeader(msg[:message.Parse(msg).Header.Physical]) {
		if strings.EqualFold(string(f.Name), "x-sieve-redirected-from") {
			for _, ad := range parseAddresses(f.Value) {
				if a := ad.local + "@" + ad.domain; strings.EqualFold(a, user) || strings.EqualFold(a, env.Envelope.To) {
					return nil
				}
			}
		}
	}
	out := make([]byte, 0, len(msg)+64)
	if user != "" {
		out = append(out, "X-Sieve-Redirected-From: "+user+"\r\n"...)
	}
	out = append(out, msg...)
	return x.Mailer.Send(ctx, redirectSender(env, cfg), []string{a.Address}, out)
}

func (r *Result) sendReject(ctx context.Context, env *Env, x *Executor, a *Action, msg []byte) error {
	if x.Rejecter != nil {
		return x.Rejecter.Reject(ctx, a.Reason, a.Ereject, msg)
	}
	from := env.Envelope.From
	if from == "" || x.Mailer == nil {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: Postmaster <postmaster@%s>\r\n", x.host())
	fmt.Fprintf(&b, "To: <%s>\r\n", from)
	b.WriteString("Subject: Automatically rejected mail\r\nAuto-Submitted: auto-replied (rejected)\r\n")
	b.WriteString("Precedence: bulk\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/report; report-type=disposition-notification;\r\n\tboundary=\"reject\"\r\n\r\n")
	b.WriteString("This is a MIME-encapsulated message\r\n\r\n--reject\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "Your message to <%s> was automatically rejected:\r\n%s\r\n\r\n", env.Envelope.To, a.Reason)
	b.WriteString("--reject\r\nContent-Type: message/disposition-notification\r\n\r\n")
	fmt.Fprintf(&b, "Reporting-UA: %s; Dovecot Mail Delivery Agent\r\nFinal-Recipient: rfc822; %s\r\n", x.host(), env.Envelope.To)
	b.WriteString("Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n")
	b.WriteString("--reject\r\nContent-Type: message/rfc822\r\n\r\n")
	b.Write(msg)
	b.WriteString("\r\n--reject--\r\n")
	return x.Mailer.Send(ctx, "", []string{from}, []byte(b.String()))
}

func (x *Executor) host() string {
	if x.Hostname != "" {
		return x.Hostname
	}
	return "localhost"
}

var listHeaders = []string{"list-id", "list-owner", "list-unsubscribe", "list-post", "list-help", "list-subscribe", "list-archive"}

// vacationAllowed applies RFC 5230 section 4.5 and 4.6; it returns the
// recipient address that made the message ours ("" when not allowed).
func vacationAllowed(env *Env, v *VacationReply, user string) string {
	sender := strings.ToLower(env.Envelope.From)
	if sender == "" || env.Message == nil {
		return ""
	}
	local := sender
	if i := strings.LastIndexByte(sender, '@'); i >= 0 {
		local = sender[:i]
	}
	for _, bad := range []string{"mailer-daemon", "listserv", "majordomo", "owner-"} {
		if strings.HasPrefix(local, bad) || strings.HasSuffix(local, "-request") {
			return ""
		}
	}
	hdr := env.Message.Header()
	if val, ok := message.FieldValue(hdr, "auto-submitted"); ok && !strings.EqualFold(strings.TrimSpace(string(val)), "no") {
		return ""
	}
	if val, ok := message.FieldValue(hdr, "precedence"); ok {
		p := strings.ToLower(strings.TrimSpace(string(val)))
		if p == "junk" || p == "bulk" || p == "list" {
			return ""
		}
	}
	for _, h := range listHeaders {
		if _, ok := message.FieldValue(hdr, h); ok {
			return ""
		}
	}
	if autoResponseSuppressed(hdr) {
		return ""
	}
	cfg := env.settings()
	mine := append([]string{user}, v.Addresses...)
	if cfg.UserEmail != "" {
		mine = append(mine, cfg.UserEmail)
	}
	if cfg.VacationUseOriginalRecipient && env.Envelope.OrigTo != "" {
		mine = append(mine, env.Envelope.OrigTo)
	}
	if containsFold(mine, sender) {
		return ""
	}
	if !vacationCheckRecipient(cfg) {
		return user
	}
	for _, f := range hdr {
		n := strings.ToLower(string(f.Name))
		if n != "to" && n != "cc" && n != "bcc" && n != "resent-to" && n != "resent-cc" && n != "resent-bcc" {
			continue
		}
		for _, a := range parseAddresses(f.Value) {
			if containsFold(mine, a.local+"@"+a.domain) {
				return a.local + "@" + a.domain
			}
		}
	}
	return ""
}

// autoResponseSuppressed reports whether Microsoft's
// X-Auto-Response-Suppress asks not to send out-of-office replies (OOF
// or All), which Pigeonhole honours.
func autoResponseSuppressed(hdr []message.Field) bool {
	for _, f := range hdr {
		if !strings.EqualFold(string(f.Name), "x-auto-response-suppress") {
			continue
		}
		for _, tok := range strings.Split(message.DecodedHeaderValue(f.Value), ",") {
			tok = strings.TrimSpace(tok)
			if strings.EqualFold(tok, "oof") || strings.EqualFold(tok, "all") {
				return true
			}
		}
	}
	return false
}

// vacationCheckRecipient is false with sieve_vacation_dont_check_recipient
// (Dovecot 2.3) or sieve_vacation_check_recipient = no (2.4).
func vacationCheckRecipient(cfg *Config) bool {
	if cfg.VacationDontCheckRecipient {
		return false
	}
	if v, ok := cfg.Raw["sieve_vacation_check_recipient"]; ok {
		b, err := parseBool(v)
		return err != nil || b
	}
	return true
}

func (r *Result) sendVacation(ctx context.Context, env *Env, x *Executor, a *Action) error {
	v := a.Vacation
	user := env.User
	if user == "" {
		user = env.Envelope.To
	}
	me := vacationAllowed(env, v, user)
	if me == "" {
		return nil
	}
	sum := sha256.Sum256([]byte("vacation\x00" + v.Handle + "\x00" + strings.ToLower(env.Envelope.From)))
	id := hex.EncodeToString(sum[:])
	if x.Tracker != nil && v.Seconds > 0 {
		seen, err := x.Tracker.Seen(ctx, id, env.now())
		if err != nil || seen {
			return err
		}
	}
	if x.Mailer == nil {
		return nil
	}
	sender := ""
	if env.settings().VacationSendFromRecipient {
		sender = env.Envelope.To
	}
	if err := x.Mailer.Send(ctx, sender, []string{env.Envelope.From}, vacationMessage(env, x, v, me)); err != nil {
		return fmt.Errorf("send vacation reply: %w", err)
	}
	x.logf("vacation action: sent vacation response to <%s>", env.Envelope.From)
	if x.Tracker != nil && v.Seconds > 0 {
		return x.Tracker.Mark(ctx, id, env.now().Add(time.Duration(v.Seconds)*time.Second))
	}
	return nil
}

func vacationMessage(env *Env, x *Executor, v *VacationReply, user string) []byte {
	hdr := env.Message.Header()
	subject := v.Subject
	if subject == "" {
		subject = truncateSubject(vacationSubject(env.settings(), hdr))
	}
	from := v.From
	if from == "" {
		from = "<" + user + ">"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "X-Sieve: Pigeonhole Sieve\r\nMessage-ID: <%d.vacation@%s>\r\n", env.now().UnixNano(), x.host())
	fmt.Fprintf(&b, "Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s\r\n", env.now().Format(time.RFC1123Z), from,
		vacationTo(env, hdr), subject)
	if val, ok := message.FieldValue(hdr, "message-id"); ok {
		id := strings.TrimSpace(message.DecodedHeaderValue(val))
		refs := id
		if r, ok := message.FieldValue(hdr, "references"); ok {
			refs = strings.Join(append(strings.Fields(message.DecodedHeaderValue(r)), id), "\r\n ")
		}
		fmt.Fprintf(&b, "In-Reply-To: %s\r\nReferences: %s\r\n", id, refs)
	}
	b.WriteString("Auto-Submitted: auto-replied (vacation)\r\nPrecedence: bulk\r\n")
	if !v.MIME {
		b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	} else {
		b.WriteString("MIME-Version: 1.0\r\n")
	}
	b.WriteString(v.Reason)
	if !strings.HasSuffix(v.Reason, "\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}

// vacationTo is the reply's To field: the Sender, Resent-From or From
// field that names the envelope sender (any of them with
// sieve_vacation_to_header_ignore_envelope), else the envelope sender.
func vacationTo(env *Env, hdr []message.Field) string {
	ignore := env.settings().VacationToHeaderIgnoreEnvelope
	for _, name := range []string{"sender", "resent-from", "from"} {
		val, ok := message.FieldValue(hdr, name)
		if !ok {
			continue
		}
		addrs := parseAddresses(val)
		if len(addrs) == 0 {
			continue
		}
		if ignore || strings.EqualFold(addrs[0].local+"@"+addrs[0].domain, env.Envelope.From) {
			return strings.Join(strings.Fields(string(val)), " ") // unfolded, encoded words kept
		}
	}
	return "<" + env.Envelope.From + ">"
}

// maxSubject is the length in characters beyond which Pigeonhole cuts a
// generated vacation subject, ending it with an ellipsis.
const maxSubject = 256

func truncateSubject(s string) string {
	r := []rune(s)
	if len(r) <= maxSubject {
		return s
	}
	return string(r[:maxSubject-1]) + "\u2026"
}

// vacationSubject is the reply subject without :subject: Pigeonhole's
// sieve_vacation_default_subject_template (%{subject} or %$ for the
// original subject), sieve_vacation_default_subject, or "Auto: " and the
// original subject.
func vacationSubject(cfg *Config, hdr []message.Field) string {
	orig, has := "", false
	if val, ok := message.FieldValue(hdr, "subject"); ok {
		orig, has = strings.TrimSpace(message.DecodedHeaderValue(val)), true
	}
	if t := cfg.VacationDefaultSubjectTemplate; t != "" {
		return strings.NewReplacer("%{subject}", orig, "%$", orig, "%%", "%").Replace(t)
	}
	if cfg.VacationDefaultSubject != "" && (!has || orig == "") {
		return cfg.VacationDefaultSubject
	}
	return "Auto: " + orig
}

// mailtoURI is a parsed notification URI (RFC 6068): the To, Cc and Bcc
// entries as written and the subject and body.
type mailtoURI struct {
	to, cc, bcc   []string
	subject, body string
}

func parseMailto(method string) mailtoURI {
	var m mailtoURI
	_, rest, _ := strings.Cut(method, ":")
	path, query, _ := strings.Cut(rest, "?")
	split := func(v string) []string {
		var out []string
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				out = append(out, e)
			}
		}
		return out
	}
	unesc := func(v string) string {
		if d, err := url.PathUnescape(v); err == nil {
			return d
		}
		return v
	}
	m.to = split(unesc(path))
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		switch v = unesc(v); strings.ToLower(unesc(k)) {
		case "to":
			m.to = append(m.to, split(v)...)
		case "cc":
			m.cc = append(m.cc, split(v)...)
		case "bcc":
			m.bcc = append(m.bcc, split(v)...)
		case "subject":
			m.subject = v
		case "body":
			m.body = v
		}
	}
	return m
}

// notifyEnvelopeFrom is the envelope sender of a mailto notification:
// null for a message with a null sender, else
// sieve_notify_mailto_envelope_from, else :from, else the postmaster.
func notifyEnvelopeFrom(env *Env, x *Executor, cfg *Config, nt *Notification) string {
	if env.Envelope.From == "" {
		return ""
	}
	switch v := cfg.Raw["sieve_notify_mailto_envelope_from"]; v {
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
	case "":
		if a, ok := normalizeAddress(nt.From); ok {
			return a
		}
		return "postmaster@" + x.host()
	default:
		return strings.TrimSpace(strings.Trim(v, "<>"))
	}
}

var notifyPriority = map[string][2]string{"1": {"1 (Highest)", "high"}, "2": {"3 (Normal)", "normal"}, "3": {"5 (Lowest)", "low"}}

// sendNotify sends a mailto notification (RFC 5436) to each recipient not
// notified yet, as Pigeonhole does; nothing is sent about an
// auto-submitted message.
func sendNotify(ctx context.Context, env *Env, x *Executor, a *Action, notified map[string]bool) error {
	if x.Mailer == nil {
		return nil
	}
	nt := a.Notify
	if env.Message != nil {
		if val, ok := message.FieldValue(env.Message.Header(), "auto-submitted"); ok && !strings.EqualFold(strings.TrimSpace(string(val)), "no") {
			return nil
		}
	}
	m := parseMailto(nt.Method)
	fresh := func(list []string) ([]string, []string) {
		var hdr, rcpts []string
		for _, e := range list {
			addr, ok := normalizeAddress(e)
			if !ok || notified[strings.ToLower(addr)] {
				continue
			}
			notified[strings.ToLower(addr)] = true
			hdr, rcpts = append(hdr, e), append(rcpts, addr)
		}
		return hdr, rcpts
	}
	toHdr, toRcpts := fresh(m.to)
	ccHdr, ccRcpts := fresh(m.cc)
	_, bccRcpts := fresh(m.bcc)
	rcpts := append(append(toRcpts, ccRcpts...), bccRcpts...)
	if len(rcpts) == 0 {
		return nil
	}
	cfg := env.settings()
	msg := notifyMessage(env, x, nt, m, toHdr, ccHdr)
	sender := notifyEnvelopeFrom(env, x, cfg, nt)
	for _, rcpt := range rcpts {
		if err := x.Mailer.Send(ctx, sender, []string{rcpt}, msg); err != nil {
			return fmt.Errorf("send notification: %w", err)
		}
	}
	if len(rcpts) > 0 {
		x.logf("notify action: sent mail notification to <%s>", strings.Join(rcpts, ">, <"))
	}
	return nil
}

func notifyMessage(env *Env, x *Executor, nt *Notification, m mailtoURI, to, cc []string) []byte {
	subject := m.subject
	if subject == "" {
		subject = nt.Message
	}
	if subject == "" && env.Message != nil {
		if val, ok := message.FieldValue(env.Message.Header(), "subject"); ok {
			subject = "[SIEVE] New mail: " + strings.TrimSpace(message.DecodedHeaderValue(val))
		}
	}
	from := nt.From
	if from == "" {
		from = "Postmaster <postmaster@" + x.host() + ">"
	}
	prio, ok := notifyPriority[nt.Importance]
	if !ok {
		prio = notifyPriority["2"]
	}
	body := m.body
	if body == "" {
		body = "Notification of new message.\r\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "X-Sieve: Pigeonhole Sieve\r\nMessage-ID: <%d.notify@%s>\r\nDate: %s\r\n", env.now().UnixNano(), x.host(), env.now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Subject: %s\r\nFrom: %s\r\n", truncateSubject(subject), from)
	if len(to) > 0 {
		fmt.Fprintf(&b, "To: %s\r\n", strings.Join(to, ", "))
	}
	if len(cc) > 0 {
		fmt.Fprintf(&b, "Cc: %s\r\n", strings.Join(cc, ", "))
	}
	fmt.Fprintf(&b, "Auto-Submitted: auto-notified; owner-email=\"%s\"\r\nPrecedence: bulk\r\nX-Priority: %s\r\nImportance: %s\r\n",
		env.Envelope.To, prio[0], prio[1])
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(body)
	return []byte(b.String())
}
