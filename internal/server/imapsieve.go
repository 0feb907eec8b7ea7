package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"roost/internal/auth"
	"roost/internal/delivery"
	"roost/internal/imapserver"
	"roost/internal/logging"
	"roost/internal/settings"
	"roost/internal/sieve"
	"roost/internal/sievestore"
	"roost/internal/storage"
)

// extprogramsExtensions are the extensions of Pigeonhole's
// sieve_extprograms plugin: known only when sieve_plugins loads it.
var extprogramsExtensions = []string{"vnd.dovecot.pipe", "vnd.dovecot.filter", "vnd.dovecot.execute"}

// imapSieve is Pigeonhole's imap_sieve plugin (RFC 6785 as Pigeonhole
// configures it): after APPEND, COPY/MOVE or a flag change in a mailbox
// that an imapsieve_mailboxN_* rule names, it runs the rule's before and
// after scripts (administrator scripts) on each message, as the user.
// With imapsieve_url set, a mailbox's /shared/imapsieve/script METADATA
// entry (else the server's) names a script of the user's personal Sieve
// storage that runs, for every cause, between the before and after
// scripts (RFC 6785 section 2.2).
type imapSieve struct {
	cfg     *sieve.Config
	cache   *sievestore.Cache
	mailer  sieve.Mailer
	host    string
	log     *logging.Logger
	s       *settings.Settings
	expunge bool
	url     string // imapsieve_url: user scripts from METADATA
}

// imapsieveScriptEntry is the METADATA entry naming a mailbox's script
// (RFC 6785 section 2.2).
const imapsieveScriptEntry = "/shared/imapsieve/script"

// imapSieveHook returns the MailEvents of the imap protocol: nil unless
// mail_plugins has imap_sieve and some imapsieve_mailboxN rule or
// imapsieve_url exists.
func imapSieveHook(st *stack, s *settings.Settings) (imapserver.MailEvents, error) {
	if !slices.Contains(s.Mail.Plugins, "imap_sieve") {
		return nil, nil
	}
	cfg, err := sieve.ParseConfig(s.Plugin)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("imap: plugin: %w", err)}
	}
	url := strings.TrimSpace(s.Plugin["imapsieve_url"])
	if len(cfg.Imapsieve) == 0 && url == "" {
		return nil, nil
	}
	plugins := strings.Fields(s.Plugin["sieve_plugins"])
	c := *cfg
	if len(c.Extensions) == 0 {
		c.Extensions = sieve.DefaultExtensions
	}
	c.Extensions = pluginExtensions(c.Extensions, plugins)
	c.GlobalExtensions = pluginExtensions(cfg.GlobalExtensions, plugins)
	if slices.Contains(plugins, "sieve_imapsieve") { // the imapsieve extension exists in IMAP only
		c.Extensions = append(slices.Clip(c.Extensions), "imapsieve")
	}
	return &imapSieve{url: url,
		cfg: &c, cache: sievestore.NewCache(), host: hostname(s), s: s,
		mailer:  delivery.Sendmail{Path: s.LDA.SendmailPath, SubmissionHost: s.LDA.SubmissionHost, Hostname: hostname(s)},
		log:     st.log.With("imap"),
		expunge: cfg.ImapsieveExpungeDiscarded(),
	}, nil
}

// imapsieveURL is imapsieve_url when the imap_sieve plugin is loaded: the
// IMAPSIEVE capability's URL.
func imapsieveURL(s *settings.Settings) string {
	if !slices.Contains(s.Mail.Plugins, "imap_sieve") {
		return ""
	}
	return strings.TrimSpace(s.Plugin["imapsieve_url"])
}

// pluginExtensions drops the extprograms extensions from exts unless
// sieve_plugins loads sieve_extprograms.
func pluginExtensions(exts, plugins []string) []string {
	if slices.Contains(plugins, "sieve_extprograms") {
		return exts
	}
	var out []string
	for _, e := range exts {
		if !slices.Contains(extprogramsExtensions, e) {
			out = append(out, e)
		}
	}
	return out
}

// MailEvent runs the matching rules' scripts on every message of ev. A
// script that cannot be compiled or fails is logged and the message is
// left as it is.
func (h *imapSieve) MailEvent(ctx context.Context, s *imapserver.Session, u storage.User, ev imapserver.MailEvent) {
	rules := h.cfg.ImapsieveMatch(ev.Mailbox, ev.From, ev.Cause)
	log := h.log.With(fmt.Sprintf("imap(%s)", s.User))
	user := h.mailboxScript(ctx, log, s, u, ev.Mailbox)
	if len(rules) == 0 && user == "" {
		return
	}
	progs := h.compile(ctx, log, rules, user)
	if len(progs) == 0 {
		return
	}
	mb, err := u.Open(ctx, ev.Mailbox, storage.OpenOptions{})
	if err != nil {
		log.Errorf("imapsieve: open mailbox %s: %v", ev.Mailbox, err)
		return
	}
	defer mb.Close()
	env := h.env(s, ev)
	for _, uid := range ev.UIDs {
		h.runMessage(ctx, log, u, mb, uid, progs, env)
	}
}

// compile loads the before scripts of rules in order, the user's
// mailbox script (a path, "" for none), then the rules' after scripts.
func (h *imapSieve) compile(ctx context.Context, log *logging.Logger, rules []sieve.ImapsieveRule, user string) []*sieve.Program {
	var progs []*sieve.Program
	add := func(path string, global bool) {
		c, err := h.cache.Compile(ctx, path, global, h.cfg)
		if err != nil {
			log.Errorf("imapsieve: script %s: %v", path, err)
			return
		}
		progs = append(progs, c.Program)
	}
	admin := func(loc string) {
		if loc == "" {
			return
		}
		path, err := sieve.ImapsieveScriptPath(loc)
		if err != nil {
			log.Errorf("imapsieve: %v", err)
			return
		}
		add(path, true)
	}
	for _, r := range rules {
		admin(r.Before)
	}
	if user != "" {
		add(user, false)
	}
	for _, r := range rules {
		admin(r.After)
	}
	return progs
}

// mailboxScript returns the path of the user's script for mailbox, named
// by its /shared/imapsieve/script METADATA entry or else the server's:
// "" when imapsieve_url is not set or none is named.
func (h *imapSieve) mailboxScript(ctx context.Context, log *logging.Logger, s *imapserver.Session, u storage.User, mailbox string) string {
	ms, ok := u.(storage.MetadataStore)
	if h.url == "" || !ok {
		return ""
	}
	name := ""
	for _, box := range []string{mailbox, ""} {
		entries, err := ms.GetMetadata(ctx, box)
		if err != nil {
			log.Errorf("imapsieve: read METADATA of %q: %v", box, err)
			return ""
		}
		for _, e := range entries {
			if e.Name == imapsieveScriptEntry && len(e.Value) > 0 {
				name = string(e.Value)
			}
		}
		if name != "" {
			break
		}
	}
	if name == "" {
		return ""
	}
	var fields auth.Fields
	if s.Login != nil {
		fields = s.Login.UserInfo.Fields
	}
	st, err := sieveStore(h.s, "imap", s.User, fields)
	if err == nil && (st.Config().Dir == "" || !sievestore.ValidName(name)) {
		err = fmt.Errorf("no personal Sieve storage or invalid script name %q", name)
	}
	if err != nil {
		log.Errorf("imapsieve: mailbox %s script: %v", mailbox, err)
		return ""
	}
	return filepath.Join(st.Config().Dir, name+sievestore.Ext)
}

// env is the Sieve environment of ev for the session's user.
func (h *imapSieve) env(s *imapserver.Session, ev imapserver.MailEvent) *sieve.Env {
	email := s.User
	var fields auth.Fields
	if s.Login != nil {
		fields = s.Login.UserInfo.Fields
	}
	if !strings.Contains(email, "@") && h.cfg.UserEmail != "" {
		email = h.cfg.UserEmail
	}
	home := fields["home"]
	if home == "" && h.s != nil {
		if uc, err := userConfig(h.s, "imap", s.User, fields, nil, nil); err == nil {
			home = uc.Home // mail_home
		}
	}
	e := sieve.ImapsieveEvent{User: s.User, Email: email, Cause: ev.Cause, Mailbox: ev.Mailbox, ChangedFlags: ev.ChangedFlags}
	items := e.Environment()
	items["vnd.dovecot.username"] = s.User // the programs' USER, as in delivery
	if h.host != "" {
		items["host"] = h.host // environment "host" and the programs' HOST
	}
	return &sieve.Env{User: email, Home: home, Settings: h.cfg, Environment: items}
}

// runMessage runs the scripts on one message and applies the outcome.
func (h *imapSieve) runMessage(ctx context.Context, log *logging.Logger, u storage.User, mb storage.Mailbox, uid uint32,
	progs []*sieve.Program, base *sieve.Env) {
	var orig storage.Message
	for _, m := range mb.Messages() {
		if m.UID == uid {
			orig = m
		}
	}
	if orig.UID == 0 {
		return // expunged meanwhile
	}
	raw, err := readMessage(ctx, mb, uid)
	if err != nil {
		log.Errorf("imapsieve: read %s UID %d: %v", mb.Name(), uid, err)
		return
	}
	env := *base
	env.Message = sieve.ParseMessage(raw)
	env.Flags = orig.Flags
	out := sieve.ImapsieveRun(ctx, progs, &env, &sieve.Executor{Mailer: h.mailer, Hostname: h.host})
	for _, w := range out.Warnings {
		log.Warnf("imapsieve: %s", w)
	}
	for _, e := range out.Errors {
		log.Errorf("imapsieve: %s UID %d: %s", mb.Name(), uid, strings.ReplaceAll(e.Error(), "\n", "; "))
	}
	if out.Keep && out.Message != nil {
		out.Keep = !h.replace(ctx, log, u, mb, orig, out)
	}
	h.apply(ctx, log, u, mb, uid, raw, out)
}

// replace saves the edited message with the outcome's flags, as
// Pigeonhole does; the original is then handled as discarded. It reports
// whether the new message was saved.
func (h *imapSieve) replace(ctx context.Context, log *logging.Logger, u storage.User, mb storage.Mailbox,
	orig storage.Message, out *sieve.ImapsieveOutcome) bool {
	flags := out.Flags
	if !out.FlagsChanged {
		flags = orig.Flags
	}
	m := storage.AppendMessage{Body: bytes.NewReader(out.Message), Size: int64(len(out.Message)), Flags: flags,
		InternalDate: orig.InternalDate}
	if _, err := u.Append(ctx, mb.Name(), m); err != nil {
		log.Errorf("imapsieve: save edited message of %s UID %d: %v", mb.Name(), orig.UID, err)
		return false
	}
	return true
}

// apply stores fileinto copies, then updates the message's flags, or
// marks it \Deleted when no script kept it (or an edited copy replaced
// it).
func (h *imapSieve) apply(ctx context.Context, log *logging.Logger, u storage.User, mb storage.Mailbox, uid uint32,
	raw []byte, out *sieve.ImapsieveOutcome) {
	for _, a := range out.Stores {
		msg := raw
		if a.Message != nil {
			msg = a.Message
		}
		if err := storeCopy(ctx, u, a, msg); err != nil {
			log.Errorf("imapsieve: fileinto %s: %v", a.Mailbox, err)
			out.Keep = true // never lose the message
		}
	}
	uids := []uint32{uid}
	switch {
	case !out.Keep:
		if _, err := mb.Store(ctx, uids, storage.FlagsAdd, []string{`\Deleted`}, storage.StoreOptions{}); err != nil {
			log.Errorf("imapsieve: flag %s UID %d \\Deleted: %v", mb.Name(), uid, err)
			return
		}
		if h.expunge {
			if err := mb.Expunge(ctx, uids); err != nil {
				log.Errorf("imapsieve: expunge %s UID %d: %v", mb.Name(), uid, err)
			}
		}
	case out.FlagsChanged:
		if _, err := mb.Store(ctx, uids, storage.FlagsSet, out.Flags, storage.StoreOptions{}); err != nil {
			log.Errorf("imapsieve: set flags of %s UID %d: %v", mb.Name(), uid, err)
		}
	}
}

// storeCopy saves a fileinto copy, creating the mailbox for :create.
func storeCopy(ctx context.Context, u storage.User, a *sieve.Action, msg []byte) error {
	m := storage.AppendMessage{Body: bytes.NewReader(msg), Size: int64(len(msg)), Flags: a.Flags}
	_, err := u.Append(ctx, a.Mailbox, m)
	if err != nil && a.Create && storage.KindOf(err) == storage.KindNotFound {
		if cerr := u.Create(ctx, a.Mailbox, nil); cerr != nil && storage.KindOf(cerr) != storage.KindExists {
			return cerr
		}
		m.Body = bytes.NewReader(msg)
		_, err = u.Append(ctx, a.Mailbox, m)
	}
	return err
}

// readMessage reads a whole message.
func readMessage(ctx context.Context, mb storage.Mailbox, uid uint32) ([]byte, error) {
	r, err := mb.Open(ctx, uid)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
}
