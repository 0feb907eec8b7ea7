package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"roost/internal/logging"
	"roost/internal/sieve"
	"roost/internal/sievestore"
	"roost/internal/storage"
)

// SieveOptions configure the Sieve filter (Pigeonhole's sieve plugin).
type SieveOptions struct {
	// Storage opens a recipient's script storage (the plugin settings
	// resolved against the user's home). Required.
	Storage func(ctx context.Context, a Account) (*sievestore.Store, error)
	// Config is the Pigeonhole configuration; nil is the defaults.
	Config *sieve.Config
	// Cache keeps compiled scripts; nil compiles every time.
	Cache *sievestore.Cache
	// Mailer sends redirects, vacation replies, rejections and
	// notifications; nil drops them (with a log line).
	Mailer   sieve.Mailer
	Hostname string
	// Postmaster is postmaster_address for a user (From of a Sieve
	// rejection); nil is postmaster@ the hostname.
	Postmaster func(user string) string
	Logger     *logging.Logger
	Now        func() time.Time
}

// Sieve is the Filter that runs the recipient's Sieve scripts:
// sieve_before scripts, the active personal script (or sieve_default),
// then sieve_after scripts, each only while the implicit keep is still in
// effect. A script that fails to compile or to run is logged to the user's
// ~/.dovecot.sieve.log and the main log, and the message is kept: a broken
// script never loses mail.
type Sieve struct {
	opts SieveOptions
}

// NewSieve returns the Sieve filter.
func NewSieve(opts SieveOptions) (*Sieve, error) {
	if opts.Storage == nil {
		return nil, errors.New("delivery: sieve without script storage")
	}
	if opts.Config == nil {
		opts.Config = sieve.DefaultConfig()
	}
	if opts.Cache == nil {
		opts.Cache = sievestore.NewCache()
	}
	if opts.Logger == nil {
		opts.Logger = logging.NewWriter(io.Discard, false)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sieve{opts: opts}, nil
}

// sieveScript is one script of the chain.
type sieveScript struct {
	path     string
	personal bool
}

// chain lists the scripts to run for a user.
func (s *Sieve) chain(st *sievestore.Store) ([]sieveScript, error) {
	cfg := st.Config()
	var out []sieveScript
	for _, p := range sievestore.Expand(cfg.Before) {
		out = append(out, sieveScript{path: p})
	}
	active, err := st.ActivePath()
	if err != nil {
		return nil, err
	}
	switch {
	case active != "":
		out = append(out, sieveScript{path: active, personal: true})
	case cfg.Default != "":
		out = append(out, sieveScript{path: cfg.Default})
	}
	for _, p := range sievestore.Expand(cfg.After) {
		out = append(out, sieveScript{path: p})
	}
	return out, nil
}

// Filter implements Filter.
func (s *Sieve) Filter(ctx context.Context, m *Mail) ([]Action, error) {
	log := s.opts.Logger.With(m.Recipient.Account.User)
	st, err := s.opts.Storage(ctx, m.Recipient.Account)
	if err != nil {
		return nil, fmt.Errorf("sieve storage: %w", err)
	}
	scripts, err := s.chain(st)
	if err != nil || len(scripts) == 0 {
		return nil, err
	}
	raw, err := s.message(m)
	if err != nil {
		return nil, err
	}
	env := &sieve.Env{
		Message:   sieve.ParseMessage(raw),
		Envelope:  sieve.Envelope{From: m.Envelope.Sender, To: s.recipient(m), OrigTo: m.Recipient.Original},
		Mailboxes: mailboxes{m.User},
		Metadata:  mailboxes{m.User},
		Tracker:   sievestore.NewTracker(st.Config().Home),
		Home:      st.Config().Home,
		Scripts:   st,
		Settings:  s.opts.Config,
		Now:       s.opts.Now,
		// vnd.dovecot.environment's items.
		Environment: map[string]string{"vnd.dovecot.username": m.Recipient.Account.User,
			"vnd.dovecot.default-mailbox": defaultMailbox(m.Recipient)},
	}
	rec := &storeRecorder{}
	x := s.executor(log, m, env, rec)
	if !s.run(ctx, log, st, scripts, env, x) {
		return nil, nil
	}
	if rej, ok := x.Rejecter.(*sieveRejecter); ok && rej.refused != nil {
		return []Action{{Kind: Refuse, Reason: *rej.refused, Sieve: true}}, nil
	}
	return s.actions(m, raw, rec), nil
}

// executor is what runs the scripts' actions: stores are recorded for
// delivery to perform, outgoing mail and duplicate marks happen at once.
func (s *Sieve) executor(log *logging.Logger, m *Mail, env *sieve.Env, rec *storeRecorder) *sieve.Executor {
	mailer := s.opts.Mailer
	if mailer == nil {
		mailer = droppedMail{log}
	}
	rcpt := s.recipient(m)
	postmaster := "postmaster@" + s.opts.Hostname
	if s.opts.Postmaster != nil {
		postmaster = s.opts.Postmaster(m.Recipient.Account.User)
	}
	rej := &sieveRejecter{rej: Rejection{Mailer: mailer, Postmaster: postmaster, Hostname: s.opts.Hostname, Logger: log, Now: s.opts.Now},
		env: m.Envelope, rcpt: rcpt, log: log}
	id := msgID(m.Message)
	return &sieve.Executor{Deliverer: rec, Mailer: mailer, Tracker: env.Tracker,
		Hostname: s.opts.Hostname, Rejecter: rej, Postmaster: postmaster,
		Log: func(line string) { log.Infof("sieve: %s: %s", id, line) }}
}

// recipient is the final recipient address; a bare user name (LDA -d
// user) gets the hostname as its domain, as dovecot-lda does.
func (s *Sieve) recipient(m *Mail) string {
	rcpt := m.Recipient.Address
	if !strings.Contains(rcpt, "@") && s.opts.Hostname != "" {
		rcpt += "@" + s.opts.Hostname
	}
	return rcpt
}

// message is what the scripts see: the trace header and the message.
func (s *Sieve) message(m *Mail) ([]byte, error) {
	buf := make([]byte, int64(len(m.header))+m.Message.Size())
	copy(buf, m.header)
	if _, err := m.Message.ReadAt(buf[len(m.header):], 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("read message for sieve: %w", err)
	}
	return buf, nil
}

// run compiles and runs the chain as Pigeonhole's multiscript: each
// script's actions are executed before the next runs, which sees the
// edited message and the imap4flags internal flags; the chain stops when
// a script cancels the implicit keep or fails. It reports whether any
// script ran (else delivery does the implicit keep itself).
func (s *Sieve) run(ctx context.Context, log *logging.Logger, st *sievestore.Store, scripts []sieveScript, env *sieve.Env, x *sieve.Executor) bool {
	ms := sieve.NewMultiscript(env, x)
	ran := false
	for i, sc := range scripts {
		c, err := s.opts.Cache.Compile(ctx, sc.path, !sc.personal, s.opts.Config)
		if err != nil {
			s.compileFailed(log, st, sc, err)
			continue
		}
		ran = true
		res, err := ms.Run(ctx, c.Program, i == len(scripts)-1)
		s.logRun(log, st, sc, res)
		if err != nil {
			s.userError(log, st, sieveScript{personal: true}, "failed to execute actions", err)
		}
		if ms.Done() {
			break
		}
	}
	if err := ms.Finish(ctx); err != nil {
		s.userError(log, st, sieveScript{personal: true}, "failed to execute actions", err)
	}
	return ran
}

// logRun logs what a script run reported, as Pigeonhole: debug_log
// messages at info level as "DEBUG: ...", run-time warnings as errors;
// for the personal script into the user's log, else the main log.
func (s *Sieve) logRun(log *logging.Logger, st *sievestore.Store, sc sieveScript, res *sieve.Result) {
	if res.Err != nil {
		s.runFailed(log, st, sc, res.Err)
	}
	var lines []string
	for _, d := range res.Debug {
		lines = append(lines, "info: DEBUG: "+d+".")
		if !sc.personal {
			log.Infof("sieve: DEBUG: %s", d)
		}
	}
	for _, w := range res.Warnings {
		lines = append(lines, "error: "+w+".")
		if !sc.personal {
			log.Errorf("sieve: %s: %s", sc.path, w)
		}
	}
	if sc.personal && len(lines) > 0 {
		if err := st.LogErrors(s.opts.Now(), lines); err != nil {
			log.Errorf("sieve: %v", err)
		}
	}
}

// compileFailed logs a script that does not compile as Pigeonhole does:
// a personal script's errors go to the user's log and the main log says
// where to look; a global script's errors go to the main log.
func (s *Sieve) compileFailed(log *logging.Logger, st *sievestore.Store, sc sieveScript, err error) {
	lines := strings.Split(err.Error(), "\n")
	var ce *sieve.CompileError
	if errors.As(err, &ce) {
		lines = append(lines, ce.Summary())
	}
	if sc.personal && st.LogErrors(s.opts.Now(), lines) == nil {
		log.Infof("sieve: Failed to compile script `%s' (view user logfile `%s' for more information)", s.shownPath(st, sc), st.LogPath())
		return
	}
	for _, l := range lines {
		log.Errorf("sieve: %s", l)
	}
	log.Errorf("sieve: Failed to compile script `%s'", sc.path)
}

// runFailed logs a script that failed at run time (its implicit keep is
// performed) as Pigeonhole does.
func (s *Sieve) runFailed(log *logging.Logger, st *sievestore.Store, sc sieveScript, err error) {
	if sc.personal && st.LogErrors(s.opts.Now(), []string{err.Error()}) == nil {
		log.Infof("sieve: Execution of script %s failed, but implicit keep was successful (user logfile %s may reveal additional details)",
			s.shownPath(st, sc), st.LogPath())
		return
	}
	log.Errorf("sieve: %v", err)
	log.Errorf("sieve: Execution of script %s failed, but implicit keep was successful", sc.path)
}

// shownPath is how Pigeonhole names a script in the main log: the
// personal script by its active link (~/.dovecot.sieve).
func (s *Sieve) shownPath(st *sievestore.Store, sc sieveScript) string {
	if a := st.Config().Active; sc.personal && a != "" {
		return a
	}
	return sc.path
}

// userError logs a script failure: the details to the user's log for the
// personal script, a line to the main log always.
func (s *Sieve) userError(log *logging.Logger, st *sievestore.Store, sc sieveScript, what string, err error) {
	lines := strings.Split(err.Error(), "\n")
	var ce *sieve.CompileError
	if errors.As(err, &ce) {
		lines = append(lines, ce.Summary())
	}
	log.Errorf("sieve: %s: %s", what, strings.Join(lines, "; "))
	if !sc.personal {
		return
	}
	if lerr := st.LogErrors(s.opts.Now(), lines); lerr != nil {
		log.Errorf("sieve: %v", lerr)
	} else {
		log.Warnf("sieve: %s (user logfile %s may reveal additional details)", what, st.LogPath())
	}
}

// actions turns the recorded stores into delivery Actions; none is a
// discard.
func (s *Sieve) actions(m *Mail, raw []byte, rec *storeRecorder) []Action {
	final := raw
	var actions []Action
	for _, sv := range rec.stores {
		kind, box := FileInto, sv.mailbox
		if strings.EqualFold(box, "INBOX") {
			kind, box = Keep, ""
		}
		if i := slices.IndexFunc(actions, func(a Action) bool { return a.Kind == kind && a.Mailbox == box }); i >= 0 {
			continue // a second fileinto into the same mailbox stores once
		}
		actions = append(actions, Action{Kind: kind, Mailbox: box, Flags: sv.flags, Create: sv.create, Sieve: true})
		final = sv.msg
	}
	m.Message = bytesMessage(final)
	m.header = nil
	if len(actions) == 0 {
		return []Action{{Kind: Discard, Sieve: true}}
	}
	return actions
}

// defaultMailbox is where the implicit keep stores: the LDA's -m
// mailbox, else INBOX.
func defaultMailbox(r Recipient) string {
	if r.Mailbox != "" {
		return r.Mailbox
	}
	return "INBOX"
}

// sieveRejecter sends a Sieve reject as Pigeonhole has Dovecot do it: a
// rejection from <> with the reason and a disposition notification.
type sieveRejecter struct {
	rej  Rejection
	env  Envelope
	rcpt string
	log  *logging.Logger
	// refused is the reason of an ereject to refuse at the protocol
	// level (Envelope.CanRefuse); nil when none.
	refused *string
}

func (r *sieveRejecter) Reject(ctx context.Context, reason string, ereject bool, msg []byte) error {
	m := bytesMessage(msg)
	if ereject && r.env.CanRefuse {
		r.refused = &reason
		r.log.Infof("sieve: %s: reject action: rejected message from <%s> (ereject)", msgID(m), r.env.Sender)
		return nil
	}
	if err := r.rej.SendMDN(ctx, r.env, r.rcpt, m, reason); err != nil {
		return fmt.Errorf("send rejection: %w", err)
	}
	r.log.Infof("sieve: %s: reject action: rejected message from <%s> (reject)", msgID(m), r.env.Sender)
	return nil
}

// storeRecorder is the sieve.Deliverer of execute: it records the stores
// for delivery to perform.
type storeRecorder struct {
	stores []recordedStore
}

type recordedStore struct {
	mailbox string
	create  bool
	flags   []string
	msg     []byte
}

func (r *storeRecorder) Deliver(_ context.Context, mailbox string, create bool, flags []string, msg []byte) error {
	r.stores = append(r.stores, recordedStore{mailbox, create, append([]string(nil), flags...), msg})
	return nil
}

type bytesMessage []byte

func (b bytesMessage) Size() int64 { return int64(len(b)) }

func (b bytesMessage) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// mailboxes is sieve.Mailboxes over the user's storage.
type mailboxes struct{ u storage.User }

func (mb mailboxes) MailboxExists(ctx context.Context, name string) (bool, error) {
	_, err := mb.u.Status(ctx, name)
	switch {
	case err == nil:
		return true, nil
	case storage.KindOf(err) == storage.KindNotFound:
		return false, nil
	}
	return false, err
}

func (mb mailboxes) SpecialUseExists(ctx context.Context, mailbox string, uses []string) (bool, error) {
	list, err := mb.u.List(ctx)
	if err != nil {
		return false, err
	}
	for _, info := range list {
		if mailbox != "" && info.Name != mailbox {
			continue
		}
		all := true
		for _, u := range uses {
			all = all && slices.ContainsFunc(info.SpecialUse, func(s string) bool { return strings.EqualFold(s, u) })
		}
		if all {
			return true, nil
		}
	}
	return false, nil
}

// Metadata is sieve.Metadata over the user's METADATA entries (when the
// storage keeps them).
func (mb mailboxes) Metadata(ctx context.Context, mailbox, name string) (string, bool, error) {
	ms, ok := mb.u.(storage.MetadataStore)
	if !ok {
		return "", false, nil
	}
	entries, err := ms.GetMetadata(ctx, mailbox)
	switch {
	case storage.KindOf(err) == storage.KindNotFound:
		return "", false, nil
	case err != nil:
		return "", false, err
	}
	for _, e := range entries {
		if e.Name == name {
			return string(e.Value), true, nil
		}
	}
	return "", false, nil
}

type droppedMail struct{ log *logging.Logger }

func (d droppedMail) Send(_ context.Context, _ string, to []string, _ []byte) error {
	return fmt.Errorf("no sendmail_path or submission_host to send to <%s>", strings.Join(to, ">, <"))
}
