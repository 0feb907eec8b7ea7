package login

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"roost/internal/auth"
	"roost/internal/sasl"
)

// ConnInfo describes a client connection.
type ConnInfo struct {
	Service   string // "imap", "pop3", "sieve"
	Local     netip.AddrPort
	Remote    netip.AddrPort
	TLS       bool   // TLS now (implicit, or after STARTTLS)
	SessionID string // as logged
	LocalName string // TLS SNI name
	// TLSState is the server side of the TLS connection, when TLS is on:
	// SCRAM -PLUS takes channel binding data from it, EXTERNAL the
	// verified client certificate.
	TLSState *tls.ConnectionState
	// ServerCert is the DER leaf certificate the server presented, for
	// tls-server-end-point channel binding.
	ServerCert []byte
	// CertUser and CertValid carry a client certificate checked by
	// someone else (the auth-client protocol's cert_username and
	// valid-client-cert); used when TLSState has no verified chain.
	CertUser  string
	CertValid bool
}

// Session is a successful login.
type Session struct {
	User       string        // the user the session runs as
	MasterUser string        // set after a master-user login
	Mechanism  string        // SASL mechanism; "PLAIN" for LOGIN and USER/PASS
	UserInfo   auth.UserInfo // userdb answer; zero when proxying
	Fields     auth.Fields   // passdb extra fields (proxy, host, ...)
}

// Options configure a Service. The zero value of each policy field is the
// secure choice.
type Options struct {
	// Auth runs the passdb/userdb chains; it also owns the clock and sleep
	// used for auth_failure_delay.
	Auth *auth.Auth
	// Mechanisms is auth_mechanisms; empty means "plain login". Names this
	// package cannot run yet are skipped with a warning.
	Mechanisms []string
	// AllowInsecurePlaintext is disable_plaintext_auth = no.
	AllowInsecurePlaintext bool
	// SSLRequired is ssl = required: plaintext authentication needs a
	// secured connection whatever AllowInsecurePlaintext says.
	SSLRequired bool
	// TrustedNetworks is login_trusted_networks.
	TrustedNetworks []netip.Prefix
	Logger          *slog.Logger

	// Hostname names the server in CRAM-MD5 challenges (hostname).
	Hostname string
	// Realms are offered in DIGEST-MD5 challenges (auth_realms).
	Realms []string
	// DefaultRealm is appended as "@realm" to user names without one
	// (auth_default_realm).
	DefaultRealm string
	// MasterUserSeparator is auth_master_user_separator; the default
	// realm is applied to both names of "user*master".
	MasterUserSeparator string
	// AnonymousUsername is the user ANONYMOUS logs in as
	// (auth_anonymous_username); empty means "anonymous".
	AnonymousUsername string
	// SSLUsernameFromCert takes the user name from the client
	// certificate (auth_ssl_username_from_cert): EXTERNAL needs it.
	SSLUsernameFromCert bool
	// SSLRequireClientCert refuses logins without a valid client
	// certificate (auth_ssl_require_client_cert).
	SSLRequireClientCert bool
	// CertUsernameField is ssl_cert_username_field: commonName (default),
	// x500UniqueIdentifier or emailAddress.
	CertUsernameField string
	// Penalty, when set, delays attempts from addresses that failed
	// recently (Dovecot's anvil auth penalty); one Penalty is shared by
	// every service of a server.
	Penalty *Penalty
	// Rand feeds nonces (crypto/rand when nil); Now the CRAM-MD5
	// challenge's timestamp.
	Rand io.Reader
	Now  func() time.Time
}

// Service is the login policy and authentication entry point; it is
// immutable and safe for concurrent use.
type Service struct {
	opts  Options
	auth  *auth.Auth
	mechs []string
	apop  bool // auth_mechanisms has APOP (POP3 only, not SASL)
	log   *slog.Logger
}

// New validates opts.
func New(opts Options) (*Service, error) {
	if opts.Auth == nil {
		return nil, errors.New("login: no auth")
	}
	s := &Service{opts: opts, auth: opts.Auth, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	names := opts.Mechanisms
	if len(names) == 0 {
		names = []string{sasl.Plain, sasl.Login}
	}
	for _, n := range names {
		if strings.EqualFold(n, "apop") {
			s.apop = true
			continue
		}
		info, ok := sasl.Lookup(n)
		if !ok {
			s.log.Warn("auth_mechanisms: mechanism not supported yet, ignored", "mechanism", strings.ToUpper(n))
			continue
		}
		if !slices.Contains(s.mechs, info.Name) {
			s.mechs = append(s.mechs, info.Name)
		}
	}
	return s, nil
}

// Secured reports whether ci counts as secured: TLS, a trusted network,
// remote IP equal to local IP, or loopback.
func (s *Service) Secured(ci ConnInfo) bool {
	if ci.TLS {
		return true
	}
	r := ci.Remote.Addr().Unmap()
	if !r.IsValid() {
		return false
	}
	if r.IsLoopback() || r == ci.Local.Addr().Unmap() {
		return true
	}
	return slices.ContainsFunc(s.opts.TrustedNetworks, func(p netip.Prefix) bool { return p.Contains(r) })
}

// PlaintextAllowed reports whether plaintext authentication (LOGIN,
// USER/PASS, SASL PLAIN and LOGIN) may be used on ci.
func (s *Service) PlaintextAllowed(ci ConnInfo) bool {
	return s.Secured(ci) || (s.opts.AllowInsecurePlaintext && !s.opts.SSLRequired)
}

// Mechanisms lists the SASL mechanisms to advertise on ci, in
// auth_mechanisms order; plaintext ones are hidden when not allowed.
func (s *Service) Mechanisms(ci ConnInfo) []string {
	plain := s.PlaintextAllowed(ci)
	var out []string
	for _, m := range s.mechs {
		info, _ := sasl.Lookup(m)
		if info.Plaintext && !plain {
			continue
		}
		if info.ChannelBinding && ci.TLSState == nil {
			continue
		}
		out = append(out, m)
	}
	return out
}

// Infos describes every configured mechanism, in auth_mechanisms order,
// for the auth-client protocol's MECH lines.
func (s *Service) Infos() []sasl.Info {
	var out []sasl.Info
	for _, m := range s.mechs {
		info, _ := sasl.Lookup(m)
		out = append(out, info)
	}
	return out
}

func (s *Service) request(ci ConnInfo, mech string) *auth.Request {
	return &auth.Request{
		Service: ci.Service, Local: ci.Local, Remote: ci.Remote,
		Secured: s.Secured(ci), TLS: ci.TLS, Mechanism: mech,
		SessionID: ci.SessionID, LocalName: ci.LocalName,
	}
}

// Login checks a user name and password (IMAP LOGIN, POP3 USER/PASS).
// "user*master" logs in as user with master's password when
// auth_master_user_separator is set.
func (s *Service) Login(ctx context.Context, ci ConnInfo, user, password string) (*Session, error) {
	if !s.PlaintextAllowed(ci) {
		return nil, &Error{Kind: PlaintextDisabled}
	}
	if err := s.checkClientCert(ci); err != nil {
		return nil, err
	}
	if err := s.opts.Penalty.Wait(ctx, ci.Remote.Addr()); err != nil {
		return nil, &Error{Kind: TempFail, Err: err}
	}
	start := s.auth.Now()
	req := s.request(ci, sasl.Plain)
	req.User = s.withRealm(user)
	res := s.auth.VerifyPlain(ctx, req, password)
	return s.complete(ctx, req, res, start)
}

// complete turns a passdb result into a session: failure mapping, delay
// and penalty, nologin, and the userdb lookup.
func (s *Service) complete(ctx context.Context, req *auth.Request, res auth.Result, start time.Time) (*Session, error) {
	fail := func(e *Error) (*Session, error) {
		if !res.Fields.Has("nodelay") {
			if e.Kind != TempFail {
				s.opts.Penalty.Fail(req.Remote.Addr())
			}
			s.auth.FailureDelay(ctx, start)
		}
		return nil, e
	}
	switch res.Status {
	case auth.OK:
	case auth.InternalFail:
		return fail(&Error{Kind: TempFail, Err: res.Err})
	case auth.PassExpired, auth.UserDisabled:
		return fail(&Error{Kind: Failed, Reason: res.Fields["reason"], Err: res.Err})
	default:
		return fail(&Error{Kind: Failed, Err: res.Err})
	}
	if res.Fields.Has("nologin") {
		return fail(&Error{Kind: Nologin, Reason: res.Fields["reason"], Fields: res.Fields})
	}
	sess := &Session{User: res.User, MasterUser: res.MasterUser, Mechanism: req.Mechanism, Fields: res.Fields}
	if res.Fields.Has("proxy") {
		s.opts.Penalty.Reset(req.Remote.Addr())
		return sess, nil
	}
	ur := s.auth.LookupUser(ctx, req)
	switch ur.Status {
	case auth.OK:
	case auth.InternalFail:
		return fail(&Error{Kind: TempFail, Err: fmt.Errorf("userdb lookup: %w", errOr(ur.Err))})
	default:
		s.log.Info("user not found from userdb", "user", req.User, "service", req.Service, "session", req.SessionID)
		return fail(&Error{Kind: Failed, Err: errors.New("user not found from userdb")})
	}
	info, err := ur.Info()
	if err != nil {
		s.log.Error("userdb returned invalid fields", "user", ur.User, "error", err.Error())
		return fail(&Error{Kind: TempFail, Err: err})
	}
	sess.User, sess.UserInfo = info.User, info
	s.opts.Penalty.Reset(req.Remote.Addr())
	return sess, nil
}

func errOr(err error) error {
	if err == nil {
		return errors.New("internal failure")
	}
	return err
}

// Exchange is one SASL authentication in progress. It is used by one
// connection goroutine at a time.
type Exchange struct {
	s     *Service
	mech  sasl.Mechanism
	req   *auth.Request
	start time.Time
	res   *auth.Result // set once the mechanism asked auth
	final *Session     // success waiting for the client's empty response
	done  bool
}

// errVerify stops a mechanism whose credentials auth refused; Exchange
// reports auth's result instead.
var errVerify = errors.New("credentials refused")

// Begin starts an exchange for mech (case-insensitive).
func (s *Service) Begin(ctx context.Context, ci ConnInfo, mech string) (*Exchange, error) {
	name := strings.ToUpper(mech)
	if !slices.Contains(s.mechs, name) {
		return nil, &Error{Kind: UnknownMechanism}
	}
	info, _ := sasl.Lookup(name)
	if info.Plaintext && !s.PlaintextAllowed(ci) {
		return nil, &Error{Kind: PlaintextDisabled}
	}
	if err := s.checkClientCert(ci); err != nil {
		return nil, err
	}
	if err := s.opts.Penalty.Wait(ctx, ci.Remote.Addr()); err != nil {
		return nil, &Error{Kind: TempFail, Err: err}
	}
	e := &Exchange{s: s, req: s.request(ci, name), start: s.auth.Now()}
	m, err := s.mechanism(e, ci, info)
	if err != nil {
		return nil, err
	}
	e.mech = m
	return e, nil
}

// Next passes the client's decoded response (nil when the client sent no
// initial response) and returns the next challenge, or the session once
// authentication succeeded. After an error or a session the exchange is
// over. Success data (SCRAM's server-final message) is sent as one more
// challenge; the session follows the client's empty response.
func (e *Exchange) Next(ctx context.Context, resp []byte) ([]byte, *Session, error) {
	if e.done {
		return nil, nil, &Error{Kind: Failed, Err: errors.New("exchange already finished")}
	}
	if e.final != nil {
		e.done = true
		if len(resp) != 0 {
			return nil, nil, &Error{Kind: Failed, Err: errors.New("non-empty response to the final server message")}
		}
		return nil, e.final, nil
	}
	ch, done, err := e.mech.Next(ctx, resp)
	if err == nil && !done {
		return ch, nil, nil
	}
	e.done = true
	if e.res == nil {
		// The mechanism failed before asking auth: malformed data.
		if err == nil {
			err = errors.New("mechanism finished without checking credentials")
		}
		e.s.opts.Penalty.Fail(e.req.Remote.Addr())
		e.s.auth.FailureDelay(ctx, e.start)
		return nil, nil, &Error{Kind: Failed, Err: err}
	}
	res := *e.res
	if err != nil && res.Status == auth.OK {
		// Credentials were found but the client's proof was wrong.
		res = auth.Result{Status: auth.PasswordMismatch, User: res.User, Err: err}
	}
	sess, err := e.s.complete(ctx, e.req, res, e.start)
	if err == nil && len(ch) > 0 {
		e.done, e.final = false, sess
		return ch, nil, nil
	}
	return nil, sess, err
}

// Abort ends the exchange because the client sent "*"; the returned error
// has Kind Aborted.
func (e *Exchange) Abort() error {
	e.done = true
	return &Error{Kind: Aborted}
}

// Mechanism returns the exchange's mechanism name.
func (e *Exchange) Mechanism() string { return e.mech.Name() }
