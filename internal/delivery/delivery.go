package delivery

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"

	"roost/internal/logging"
	"roost/internal/storage"
)

// ErrUnknownUser is what Users.Lookup returns for a user no userdb knows.
// Any other error is a temporary lookup failure, never "unknown".
var ErrUnknownUser = errors.New("user unknown")

// Account is a userdb answer.
type Account struct {
	User   string            // user name after the lookup
	Fields map[string]string // userdb fields (home, mail, uid, quota_rule, ...)
}

// Users finds accounts and opens their mail. The composition root
// implements it with the userdb chain and the storage driver; tests with
// an in-memory twin.
type Users interface {
	Lookup(ctx context.Context, user string) (Account, error)
	Open(ctx context.Context, a Account) (storage.User, error)
}

// Envelope is the SMTP envelope of a transaction.
type Envelope struct {
	Sender string // reverse path without brackets; "" for <>
	// CanRefuse: the caller can refuse the message at the protocol level
	// (LMTP's per-recipient reply; the LDA's -e exit code). A Sieve
	// ereject then refuses it (RFC 5429 section 2.1) instead of sending
	// a rejection.
	CanRefuse bool
}

// Recipient is one recipient, resolved by Resolve.
type Recipient struct {
	Address  string // as given (RCPT TO / -d / -r), e.g. "alice+box@example.net"
	Original string // ORCPT or -a; "" when the same as Address
	Detail   string // "box" of "alice+box@...", "" without
	Account  Account
	// Mailbox is the destination asked for (LDA -m); "" is the detail
	// mailbox (lmtp_save_to_detail_mailbox) or INBOX.
	Mailbox string
}

// Options configure a Deliverer; the zero value of each field is Dovecot's
// default except where noted.
type Options struct {
	Users Users
	// Filter runs before saving (the Sieve plugin); nil keeps every
	// message in its default mailbox.
	Filter Filter
	// RecipientDelimiter: each character separates user and detail
	// (recipient_delimiter; Dovecot's default is "+").
	RecipientDelimiter string
	// SaveToDetailMailbox saves user+detail@ into mailbox "detail"
	// (lmtp_save_to_detail_mailbox).
	SaveToDetailMailbox bool
	// Autocreate creates a missing destination mailbox
	// (lda_mailbox_autocreate); Autosubscribe subscribes it too
	// (lda_mailbox_autosubscribe).
	Autocreate, Autosubscribe bool
	// QuotaFullTempfail answers over-quota with a temporary failure
	// (quota_full_tempfail).
	QuotaFullTempfail bool
	// MaxMailSize refuses larger messages permanently (the quota plugin's
	// quota_max_mail_size); 0 is no limit. A userdb field
	// quota_max_mail_size overrides it per user, as plugin settings from
	// the userdb do in Dovecot.
	MaxMailSize int64
	// Quota tests a user's quota before the message is received
	// (lmtp_rcpt_check_quota). nil: no quota is enforced; this is where
	// the quota plugin plugs in.
	Quota  QuotaChecker
	Logger *logging.Logger
}

// QuotaChecker tests whether a user may receive mail: an error of kind
// storage.KindNoQuota when the user is over quota, any other error for a
// failure to tell.
type QuotaChecker interface {
	CheckQuota(ctx context.Context, u storage.User, a Account) error
}

// Deliverer delivers messages. It holds no per-delivery state and is safe
// for concurrent use.
type Deliverer struct {
	opts Options
}

// New returns a Deliverer.
func New(opts Options) (*Deliverer, error) {
	if opts.Users == nil {
		return nil, errors.New("delivery: no Users")
	}
	if opts.Logger == nil {
		opts.Logger = logging.NewWriter(io.Discard, false)
	}
	return &Deliverer{opts: opts}, nil
}

// Resolve looks the recipient's user up: at RCPT time for LMTP, before
// reading the message for the LDA. The user name is the address with the
// detail removed; when that is unknown and there is a detail, the full
// address is tried too (a user whose name contains the delimiter).
func (d *Deliverer) Resolve(ctx context.Context, address string) (Recipient, Result) {
	r := Recipient{Address: address}
	user, detail := d.SplitDetail(address)
	acct, err := d.opts.Users.Lookup(ctx, user)
	if errors.Is(err, ErrUnknownUser) && detail != "" {
		if a, err2 := d.opts.Users.Lookup(ctx, address); err2 == nil {
			acct, err, detail = a, nil, ""
		}
	}
	switch {
	case errors.Is(err, ErrUnknownUser):
		return r, unknownUser(user)
	case err != nil:
		d.opts.Logger.Errorf("user %s: lookup: %v", user, err)
		return r, lookupFailed(err)
	}
	r.Account, r.Detail = acct, detail
	return r, Result{Code: 250, Enhanced: "2.1.5", Text: "OK"}
}

// SplitDetail splits "user+detail@domain" into "user@domain" and
// "detail" at the first recipient delimiter character.
func (d *Deliverer) SplitDetail(address string) (user, detail string) {
	delims := d.opts.RecipientDelimiter
	if delims == "" {
		return address, ""
	}
	local, domain, hasDomain := cutLast(address, "@")
	i := strings.IndexAny(local, delims)
	if i < 0 {
		return address, ""
	}
	user, detail = local[:i], local[i+1:]
	if hasDomain {
		user += "@" + domain
	}
	return user, detail
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// Deliver saves msg for one resolved recipient, with the trace header in
// front. It returns only after the message is durable or has failed.
func (d *Deliverer) Deliver(ctx context.Context, env Envelope, rcpt Recipient, trace Trace, msg Message) Result {
	log := d.opts.Logger.With(rcpt.Account.User)
	if max := d.MaxMailSize(rcpt.Account); max > 0 && msg.Size() > max {
		res := tooBig()
		log.Infof("%s: save failed to %s: %s", msgID(msg), d.defaultMailbox(rcpt), res.Text)
		return res
	}
	u, err := d.opts.Users.Open(ctx, rcpt.Account)
	if err != nil {
		log.Errorf("open mail storage: %v", err)
		return saveResult(err, d.opts.QuotaFullTempfail)
	}
	defer u.Close()
	m := &Mail{Envelope: env, Recipient: rcpt, Message: msg, User: u, header: trace.Header()}
	actions := d.filter(ctx, log, m)
	res := Result{Code: 250, Enhanced: "2.0.0", Text: "Saved"}
	saved := 0
	if i := slices.IndexFunc(actions, func(a Action) bool { return a.Kind == Refuse }); i >= 0 {
		return refused(actions[i].Reason)
	}
	for _, a := range actions {
		if a.Kind == Discard {
			if !a.Sieve {
				log.Infof("%s: discarded by filter", msgID(msg))
			}
			continue
		}
		box, err := d.save(ctx, log, m, a)
		if err != nil {
			return saveResult(err, d.opts.QuotaFullTempfail)
		}
		if saved == 0 {
			res.Mailbox = box
		}
		saved++
	}
	return res
}

// MaxMailSize is the size limit for a (resolved) account: its userdb
// field quota_max_mail_size, else Options.MaxMailSize; 0 is no limit.
func (d *Deliverer) MaxMailSize(a Account) int64 {
	if v, ok := a.Fields["quota_max_mail_size"]; ok {
		if n, err := ParseSize(v); err == nil {
			return n
		}
		d.opts.Logger.With(a.User).Errorf("userdb quota_max_mail_size=%q: not a size, using the global limit", v)
	}
	return d.opts.MaxMailSize
}

// CheckQuota answers lmtp_rcpt_check_quota for a resolved recipient: 250
// when the user may receive mail (always, without a QuotaChecker), 552
// 5.2.2 over quota (452 4.2.2 with quota_full_tempfail), 451 4.3.0 when the
// quota cannot be read.
func (d *Deliverer) CheckQuota(ctx context.Context, rcpt Recipient) Result {
	ok := Result{Code: 250, Enhanced: "2.1.5", Text: "OK"}
	if d.opts.Quota == nil {
		return ok
	}
	u, err := d.opts.Users.Open(ctx, rcpt.Account)
	if err == nil {
		err = d.opts.Quota.CheckQuota(ctx, u, rcpt.Account)
		u.Close()
	}
	if err != nil {
		if storage.KindOf(err) != storage.KindNoQuota {
			d.opts.Logger.With(rcpt.Account.User).Errorf("quota check: %v", err)
		}
		return saveResult(err, d.opts.QuotaFullTempfail)
	}
	return ok
}

// defaultMailbox is where an implicit keep saves.
func (d *Deliverer) defaultMailbox(r Recipient) string {
	switch {
	case r.Mailbox != "":
		return r.Mailbox
	case d.opts.SaveToDetailMailbox && r.Detail != "":
		return r.Detail
	}
	return "INBOX"
}

func (d *Deliverer) filter(ctx context.Context, log *logging.Logger, m *Mail) []Action {
	keep := []Action{{Kind: Keep, Mailbox: d.defaultMailbox(m.Recipient)}}
	if d.opts.Filter == nil {
		return keep
	}
	actions, err := d.opts.Filter.Filter(ctx, m)
	if err != nil {
		// Dovecot's sieve plugin: a failing script falls back to the
		// implicit keep.
		log.Errorf("filter failed, keeping the message: %v", err)
		return keep
	}
	if actions == nil {
		return keep
	}
	for i := range actions {
		if actions[i].Kind == Keep && actions[i].Mailbox == "" {
			actions[i].Mailbox = keep[0].Mailbox
		}
	}
	return actions
}

// save appends the message to the action's mailbox. A missing mailbox is
// created when lda_mailbox_autocreate (or the action) asks for it, else
// the message goes to INBOX. It returns the mailbox saved to.
func (d *Deliverer) save(ctx context.Context, log *logging.Logger, m *Mail, a Action) (string, error) {
	box := a.Mailbox
	err := d.appendTo(ctx, m, box, a.Flags)
	if err == nil {
		logSaved(log, m, a, box)
		return box, nil
	}
	if storage.KindOf(err) != storage.KindNotFound || strings.EqualFold(box, "INBOX") {
		log.Errorf("%s: save failed to %s: %v", msgID(m.Message), box, err)
		return "", err
	}
	if d.opts.Autocreate || a.Create {
		if err = d.create(ctx, m.User, box); err == nil {
			if err = d.appendTo(ctx, m, box, a.Flags); err == nil {
				logSaved(log, m, a, box)
				return box, nil
			}
		}
	}
	log.Infof("%s: save failed to open mailbox %s: %s", msgID(m.Message), box, clientText(err))
	if err := d.appendTo(ctx, m, "INBOX", a.Flags); err != nil {
		log.Errorf("%s: save failed to INBOX: %v", msgID(m.Message), err)
		return "", err
	}
	log.Infof("%s: saved mail to INBOX", msgID(m.Message))
	return "INBOX", nil
}

// logSaved logs a saved message, in Pigeonhole's words for a Sieve
// action.
func logSaved(log *logging.Logger, m *Mail, a Action, box string) {
	switch {
	case !a.Sieve:
		log.Infof("%s: saved mail to %s", msgID(m.Message), box)
	case a.Kind == FileInto:
		log.Infof("sieve: %s: fileinto action: stored mail into mailbox '%s'", msgID(m.Message), box)
	default:
		log.Infof("sieve: %s: stored mail into mailbox '%s'", msgID(m.Message), box)
	}
}

func (d *Deliverer) create(ctx context.Context, u storage.User, box string) error {
	err := u.Create(ctx, box, nil)
	if err != nil && storage.KindOf(err) != storage.KindExists {
		return err
	}
	if d.opts.Autosubscribe {
		return u.SetSubscribed(ctx, box, true)
	}
	return nil
}

// deliveryAppender is a storage.User that files a delivered message
// durably without numbering it at once (maildir: the next sync does, as
// for any outside writer); the reply needs no UID.
type deliveryAppender interface {
	AppendDelivery(ctx context.Context, name string, msg storage.AppendMessage) error
}

func (d *Deliverer) appendTo(ctx context.Context, m *Mail, box string, flags []string) error {
	body := io.MultiReader(strings.NewReader(string(m.header)), io.NewSectionReader(m.Message, 0, m.Message.Size()))
	am := storage.AppendMessage{Body: body, Size: int64(len(m.header)) + m.Message.Size(), Flags: flags}
	if da, ok := m.User.(deliveryAppender); ok {
		return da.AppendDelivery(ctx, box, am)
	}
	_, err := m.User.Append(ctx, box, am)
	return err
}

func clientText(err error) string {
	if t := storage.ClientText(err); t != "" {
		return t
	}
	return err.Error()
}

// msgID is the "msgid=..." of Dovecot's delivery log lines.
func msgID(msg Message) string {
	id := headerValue(msg, "Message-ID")
	if id == "" {
		return "msgid=unspecified"
	}
	return "msgid=" + id
}
