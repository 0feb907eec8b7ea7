package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"roost/internal/auth"
	"roost/internal/config"
	"roost/internal/delivery"
	"roost/internal/imapserver"
	"roost/internal/lmtp"
	"roost/internal/logging"
	"roost/internal/maildir"
	"roost/internal/settings"
	"roost/internal/storage"
	"roost/internal/varexpand"
)

// buildLMTP makes the LMTP server of `service lmtp` listeners. LMTP has no
// implicit-TLS form; an ssl = yes listener gets the same server, with
// STARTTLS offered when TLS is configured.
func buildLMTP(st *stack, _ bool) (connServer, error) {
	s := st.plan.settingsFor("lmtp")
	d, err := newDeliverer(st, "lmtp", s)
	if err != nil {
		return nil, err
	}
	lt := s.LMTPTyped()
	concurrency, err := strconv.Atoi(orZero(s.LMTP["lmtp_user_concurrency_limit"]))
	if err != nil || concurrency < 0 {
		return nil, &ConfigError{Err: fmt.Errorf("lmtp: lmtp_user_concurrency_limit: invalid number %q", s.LMTP["lmtp_user_concurrency_limit"])}
	}
	srv, err := lmtp.New(lmtp.Options{
		Delivery:                d,
		Hostname:                hostname(s),
		TLS:                     st.tls,
		Logger:                  st.log,
		MaxMessageSize:          d.MaxMailSize(delivery.Account{}),
		UserConcurrencyLimit:    concurrency,
		RcptCheckQuota:          lt.RcptCheckQuota,
		AddReceivedHeader:       lt.AddReceivedHeader,
		DeliveryAddress:         lt.HdrDeliveryAddress,
		OriginalRecipientHeader: s.LDA.OriginalRecipientHeader,
	})
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("lmtp: %w", err)}
	}
	return srv, nil
}

// newDeliverer builds the delivery core for proto ("lmtp" or "lda") on
// the stack's userdb chain and storage driver, so that IMAP sessions of
// the same process see delivered mail at once.
func newDeliverer(st *stack, proto string, s *settings.Settings) (*delivery.Deliverer, error) {
	filter, err := sieveFilter(st, proto, s)
	if err != nil {
		return nil, err
	}
	maxSize, err := maxMailSize(s)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: %w", proto, err)}
	}
	d, err := delivery.New(delivery.Options{
		Filter:              filter,
		MaxMailSize:         maxSize,
		Users:               &deliveryUsers{st: st, proto: proto, s: s},
		RecipientDelimiter:  s.RecipientDelimiter,
		SaveToDetailMailbox: proto == "lmtp" && s.LMTPTyped().SaveToDetailMailbox,
		Autocreate:          s.LDA.MailboxAutocreate,
		Autosubscribe:       s.LDA.MailboxAutosubscribe,
		QuotaFullTempfail:   s.LDA.QuotaFullTempfail,
		Logger:              st.log.With(proto),
	})
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: %w", proto, err)}
	}
	return d, nil
}

// maxMailSize is quota_max_mail_size when the quota plugin is loaded for
// the protocol (Dovecot ignores the setting without it); 0 is no limit.
// The quota plugin itself (quota_rule, quota enforcement) is later work
// and plugs in as delivery.Options.Quota.
func maxMailSize(s *settings.Settings) (int64, error) {
	if !slices.Contains(s.Mail.Plugins, "quota") {
		return 0, nil
	}
	n, err := delivery.ParseSize(s.Plugin["quota_max_mail_size"])
	if err != nil {
		return 0, fmt.Errorf("plugin quota_max_mail_size: %w", err)
	}
	return n, nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func hostname(s *settings.Settings) string {
	if s.Hostname != "" {
		return s.Hostname
	}
	if h, err := os.Hostname(); err == nil {
		return h
	}
	return "localhost"
}

// deliveryUsers is delivery.Users on the userdb chain and storage.
type deliveryUsers struct {
	st    *stack
	proto string
	s     *settings.Settings // the protocol's settings, computed once
}

func (u *deliveryUsers) Lookup(ctx context.Context, name string) (delivery.Account, error) {
	res := u.st.auth.LookupUser(ctx, &auth.Request{Service: u.proto, User: name})
	switch res.Status {
	case auth.OK:
		return delivery.Account{User: res.User, Fields: res.Fields}, nil
	case auth.UserUnknown:
		return delivery.Account{}, delivery.ErrUnknownUser
	}
	if res.Err != nil {
		return delivery.Account{}, fmt.Errorf("userdb lookup: %w", res.Err)
	}
	return delivery.Account{}, fmt.Errorf("userdb lookup: %s", res.Status)
}

func (u *deliveryUsers) Open(ctx context.Context, a delivery.Account) (storage.User, error) {
	info, err := auth.UserResult{Status: auth.OK, User: a.User, Fields: a.Fields}.Info()
	if err != nil {
		return nil, storage.Wrap(storage.KindTemp, "Temporary user lookup failure", err)
	}
	return openUserWith(ctx, u.st, u.s, u.proto, a.User, info.Fields)
}

// openUserWith is stack.openUser with the protocol's settings computed
// once by the caller: building them per delivery or login cost a tenth of
// the CPU of an LMTP delivery.
func openUserWith(ctx context.Context, st *stack, s *settings.Settings, proto, user string, fields auth.Fields) (storage.User, error) {
	if fields == nil {
		fields = auth.Fields{}
	}
	uc, err := userConfig(s, proto, user, fields, imapserver.Fields, time.Now)
	if err != nil {
		st.log.With(fmt.Sprintf("%s(%s)", proto, user)).Errorf("%v", err)
		return nil, storage.Wrap(storage.KindUnavailable, "Internal error occurred. Refer to server log for more information.", err)
	}
	return st.storage.OpenUser(ctx, uc)
}

// LDARequest is one dovecot-lda invocation.
type LDARequest struct {
	ConfigPath string
	Overrides  []string // -o key=value, "section/key=value" for sections
	User       string   // -d; "" is the invoking user
	Sender     string   // -f; "" takes the mbox From_ line's
	Mailbox    string   // -m
	Original   string   // -a
	Final      string   // -r
	Message    io.Reader
	Stderr     io.Writer
	// StderrRejection is -e: a permanent failure is returned (exit 77,
	// the MTA bounces) instead of a rejection sent through sendmail_path.
	StderrRejection bool
}

// LDA delivers one message as dovecot-lda does, in this process, on the
// same store layout and locks as a running server.
func LDA(ctx context.Context, req LDARequest) (delivery.Result, error) {
	snap, err := load(req.ConfigPath, nil, settings.Options{FS: overlayFS{path: req.ConfigPath, extra: overrideLines(req.Overrides)}})
	if err != nil {
		return delivery.Result{}, err
	}
	p := &plan{snap: snap, global: snap.Global(), imap: snap.For(settings.Filter{Protocol: "imap"}), runUID: -1, runGID: -1}
	s := p.settingsFor("lda")
	log, err := logging.New(logging.Options{Path: s.Log.Path, InfoPath: s.Log.InfoPath, DebugPath: s.Log.DebugPath,
		SyslogFacility: s.Log.SyslogFacility, Timestamp: s.Log.Timestamp, Debug: s.Mail.Debug})
	if err != nil {
		log = logging.NewWriter(req.Stderr, false)
	}
	defer log.Close()
	st := &stack{plan: p, log: log, storage: maildir.New(maildir.Options{})}
	ao, err := authOptions(s, log.With("auth").Slog())
	if err != nil {
		return delivery.Result{}, err
	}
	if st.auth, err = auth.New(ao); err != nil {
		return delivery.Result{}, &ConfigError{Err: err}
	}
	d, err := newDeliverer(st, "lda", s)
	if err != nil {
		return delivery.Result{}, err
	}
	var rej *delivery.Rejection
	if !req.StderrRejection {
		rej = &delivery.Rejection{Hostname: hostname(s), Logger: log.With("lda"),
			Mailer: delivery.Sendmail{Path: s.LDA.SendmailPath, SubmissionHost: s.LDA.SubmissionHost, Hostname: hostname(s)}}
	}
	return ldaDeliver(ctx, d, rej, s, req)
}

// ldaDeliver resolves the user, reads the message and delivers it. A
// permanent failure other than an unknown user is, as in dovecot-lda,
// returned as it is with -e (rej nil), else reported to the sender with a
// rejection and counted as done; a rejection that cannot be sent is a
// temporary failure.
func ldaDeliver(ctx context.Context, d *delivery.Deliverer, rej *delivery.Rejection, s *settings.Settings, req LDARequest) (delivery.Result, error) {
	name := req.User
	if name == "" {
		u, err := user.Current()
		if err != nil {
			return delivery.Result{}, fmt.Errorf("no -d and no invoking user: %w", err)
		}
		name = u.Username
	}
	rcpt, res := d.Resolve(ctx, name)
	if !res.OK() {
		return res, nil
	}
	rcpt.Mailbox, rcpt.Original = req.Mailbox, req.Original
	spool := delivery.NewSpool("", 0)
	defer spool.Close()
	fromLine, err := copyMessage(spool, req.Message)
	if err != nil {
		return delivery.TempFailure(fmt.Errorf("read message: %w", err)), nil
	}
	sender := req.Sender
	if sender == "" {
		sender = fromLineSender(fromLine)
	}
	if req.Final != "" {
		rcpt.Address = req.Final
	}
	env := delivery.Envelope{Sender: sender, CanRefuse: rej == nil} // -e: a Sieve ereject exits 77
	// The LDA adds no trace header: Postfix pipe's D and R flags do.
	res = d.Deliver(ctx, env, rcpt, delivery.Trace{}, spool)
	if res.OK() || res.Temporary() || rej == nil {
		return res, nil
	}
	final := rcpt.Address
	if !strings.Contains(final, "@") {
		final += "@" + rej.Hostname
	}
	r := *rej
	r.Postmaster = postmasterAddress(s, rcpt.Account.User)
	if err := r.Send(ctx, env, final, spool, res); err != nil {
		return delivery.TempFailure(fmt.Errorf("send rejection: %w", err)), nil
	}
	return delivery.Result{Code: 250, Enhanced: "2.0.0", Text: "Rejected: " + res.Text}, nil
}

// postmasterAddress expands postmaster_address for a user: Dovecot's
// default "postmaster@%{if;%d;ne;;%d;%{hostname}}" is the user's domain,
// else the hostname setting.
func postmasterAddress(s *settings.Settings, user string) string {
	_, domain, _ := strings.Cut(user, "@")
	if domain == "" {
		domain = hostname(s)
	}
	tmpl := strings.ReplaceAll(s.PostmasterAddress, "%{if;%d;ne;;%d;%{hostname}}", domain)
	if tmpl == "" {
		return "postmaster@" + domain
	}
	n, _, _ := strings.Cut(user, "@")
	out, err := varexpand.Expand(tmpl, varexpand.Map{"user": user, "username": n, "domain": domain, "hostname": hostname(s)})
	if err != nil {
		return tmpl
	}
	return out
}

// copyMessage copies the message to w, without a leading mbox "From "
// line, which it returns.
func copyMessage(w io.Writer, r io.Reader) (string, error) {
	head := make([]byte, 5)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", err
	}
	var from string
	if string(head) == "From " {
		line := []byte{}
		b := make([]byte, 1)
		for {
			if _, err := r.Read(b); err != nil || b[0] == '\n' {
				break
			}
			line = append(line, b[0])
		}
		from = strings.TrimSuffix(string(line), "\r")
		head = nil
	}
	if _, err := w.Write(head); err != nil {
		return "", err
	}
	_, err = io.Copy(w, r)
	return from, err
}

// fromLineSender is the address of "From sender date": only a full
// address is taken, as Dovecot ("Failed to parse address ... Missing
// domain" otherwise).
func fromLineSender(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 || !strings.Contains(f[0], "@") {
		return ""
	}
	return strings.Trim(f[0], "<>")
}

// overrideLines renders -o settings as configuration lines appended to
// the main file: "plugin/quota=x" becomes "plugin {\n quota = x\n}".
func overrideLines(overrides []string) []byte {
	var b bytes.Buffer
	for _, o := range overrides {
		k, v, _ := strings.Cut(o, "=")
		parts := strings.Split(strings.TrimSpace(k), "/")
		for _, sec := range parts[:len(parts)-1] {
			fmt.Fprintf(&b, "%s {\n", sec)
		}
		fmt.Fprintf(&b, "%s = %s\n", parts[len(parts)-1], v)
		for range parts[:len(parts)-1] {
			b.WriteString("}\n")
		}
	}
	return b.Bytes()
}

// overlayFS reads the configuration from the OS, with extra lines after
// the main file's end (dovecot-lda -o).
type overlayFS struct {
	path  string
	extra []byte
}

func (o overlayFS) ReadFile(name string) ([]byte, error) {
	b, err := config.OS{}.ReadFile(name)
	if err != nil || name != o.path || len(o.extra) == 0 {
		return b, err
	}
	return append(append(b, '\n'), o.extra...), nil
}

func (o overlayFS) Glob(pattern string) ([]string, error) { return config.OS{}.Glob(pattern) }
