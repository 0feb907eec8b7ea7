package login

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"

	"roost/internal/auth"
	"roost/internal/sasl"
)

// mechanism builds the SASL exchange for info, wired to the auth chains:
// plaintext mechanisms (PLAIN, LOGIN, OAUTHBEARER, XOAUTH2) verify a
// password or token, challenge-response ones look up credentials,
// EXTERNAL checks that the certificate's user exists and ANONYMOUS only
// looks up the userdb.
func (s *Service) mechanism(e *Exchange, ci ConnInfo, info sasl.Info) (sasl.Mechanism, error) {
	verify := func(ctx context.Context, authzid, authcid, password string) error {
		e.req.User, e.req.LoginUser = s.withRealm(authcid), s.withRealm(authzid)
		res := s.auth.VerifyPlain(ctx, e.req, password)
		e.res = &res
		if res.Status != auth.OK {
			return errVerify
		}
		return nil
	}
	token := func(ctx context.Context, user, tok string) error { return verify(ctx, "", user, tok) }
	cfg := sasl.Config{Rand: s.opts.Rand, Now: s.opts.Now, Hostname: s.opts.Hostname, Realms: s.opts.Realms}
	if ci.TLSState != nil {
		cfg.ChannelBinding = sasl.TLSChannelBinding(ci.TLSState, ci.ServerCert)
		cfg.PlusOffered = slices.ContainsFunc(s.mechs, func(m string) bool { return strings.HasSuffix(m, "-PLUS") })
	}
	switch info.Name {
	case sasl.Plain:
		return sasl.NewPlain(verify), nil
	case sasl.Login:
		return sasl.NewLogin(verify), nil
	case sasl.OAuthBearer:
		return sasl.NewOAuthBearer(token), nil
	case sasl.XOAuth2:
		return sasl.NewXOAuth2(token), nil
	case sasl.CRAMMD5:
		return sasl.NewCRAMMD5(cfg, s.credentials(e, info)), nil
	case sasl.DigestMD5:
		return sasl.NewDigestMD5(cfg, s.credentials(e, info)), nil
	case sasl.SCRAMSHA1, sasl.SCRAMSHA1Plus, sasl.SCRAMSHA256, sasl.SCRAMSHA256Plus:
		return sasl.NewSCRAM(info.Name, cfg, s.credentials(e, info))
	case sasl.External:
		return sasl.NewExternal(s.external(e, ci)), nil
	case sasl.Anonymous:
		return sasl.NewAnonymous(s.anonymous(e)), nil
	}
	return nil, &Error{Kind: UnknownMechanism}
}

// credentials looks up the stored credentials a challenge-response
// mechanism needs. A stored scheme that cannot give them (a one-way hash
// for CRAM-MD5) fails the login with a log line that says so.
func (s *Service) credentials(e *Exchange, info sasl.Info) sasl.CredentialsFunc {
	return func(ctx context.Context, authzid, authcid, scheme string) ([]byte, error) {
		e.req.User, e.req.LoginUser = s.withRealm(authcid), s.withRealm(authzid)
		res := s.auth.LookupCredentials(ctx, e.req, scheme)
		e.res = &res
		if res.Status == auth.SchemeNotAvailable {
			s.log.Warn(info.Name+" needs "+scheme+" credentials, which the stored password cannot give: store PLAIN or "+scheme+" passwords, or remove "+info.Name+" from auth_mechanisms",
				"user", e.req.User, "service", e.req.Service, "session", e.req.SessionID, "error", errString(res.Err))
			// Dovecot answers as for a wrong password.
			e.res.Status = auth.PasswordMismatch
			return nil, errVerify
		}
		if res.Status != auth.OK {
			return nil, errVerify
		}
		return res.Credentials, nil
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// external completes EXTERNAL as Dovecot 2.3's mech-external: the
// certificate's user (or the authzid, as a master login) is checked with
// an empty password, so the passdb that admits it must say "nopassword".
func (s *Service) external(e *Exchange, ci ConnInfo) sasl.AuthzidFunc {
	return func(ctx context.Context, authzid string) error {
		user, ok := s.certUser(ci)
		if !ok {
			s.log.Info("EXTERNAL: no valid client certificate with a user name", "service", ci.Service,
				"rip", ci.Remote.Addr(), "session", ci.SessionID)
			return errors.New("no valid client certificate")
		}
		e.req.User, e.req.LoginUser = user, s.withRealm(authzid)
		if e.req.LoginUser == user {
			e.req.LoginUser = ""
		}
		res := s.auth.VerifyPlain(ctx, e.req, "")
		e.res = &res
		if res.Status != auth.OK {
			return errVerify
		}
		return nil
	}
}

// anonymous completes ANONYMOUS as auth_anonymous_username, with no
// passdb lookup (as Dovecot); the userdb must know that user.
func (s *Service) anonymous(e *Exchange) sasl.TraceFunc {
	return func(_ context.Context, trace string) error {
		name := s.opts.AnonymousUsername
		if name == "" {
			name = "anonymous"
		}
		s.log.Info("anonymous login", "trace", trace, "service", e.req.Service, "rip", e.req.Remote.Addr(), "session", e.req.SessionID)
		e.req.User = name
		e.res = &auth.Result{Status: auth.OK, User: name, Fields: auth.Fields{}}
		return nil
	}
}

// withRealm appends auth_default_realm to a name without '@'; for
// "user*master" to each name.
func (s *Service) withRealm(name string) string {
	r := s.opts.DefaultRealm
	if r == "" || name == "" {
		return name
	}
	if sep := s.opts.MasterUserSeparator; sep != "" {
		if u, m, ok := strings.Cut(name, sep); ok {
			return s.withRealm(u) + sep + s.withRealm(m)
		}
	}
	if strings.Contains(name, "@") {
		return name
	}
	return name + "@" + r
}

// certUser returns the user name of the connection's verified client
// certificate (ssl_cert_username_field of its subject), or the one a
// trusted peer vouched for (auth-client cert_username).
func (s *Service) certUser(ci ConnInfo) (string, bool) {
	if ci.TLSState != nil && len(ci.TLSState.VerifiedChains) > 0 && len(ci.TLSState.VerifiedChains[0]) > 0 {
		if u := CertUsername(ci.TLSState.VerifiedChains[0][0], s.opts.CertUsernameField); u != "" {
			return u, true
		}
		return "", false
	}
	if ci.CertValid && ci.CertUser != "" {
		return ci.CertUser, true
	}
	return "", false
}

// CertUsername reads ssl_cert_username_field from a certificate's
// subject: commonName (also the default), emailAddress or
// x500UniqueIdentifier.
func CertUsername(c *x509.Certificate, field string) string {
	switch strings.ToLower(field) {
	case "", "commonname", "cn":
		return c.Subject.CommonName
	case "emailaddress", "email":
		if len(c.EmailAddresses) > 0 {
			return c.EmailAddresses[0]
		}
		for _, n := range c.Subject.Names {
			if n.Type.String() == "1.2.840.113549.1.9.1" {
				if v, ok := n.Value.(string); ok {
					return v
				}
			}
		}
	case "x500uniqueidentifier":
		for _, n := range c.Subject.Names {
			if n.Type.String() == "2.5.4.45" {
				if v, ok := n.Value.(string); ok {
					return v
				}
			}
		}
	}
	return ""
}

// checkClientCert applies auth_ssl_require_client_cert.
func (s *Service) checkClientCert(ci ConnInfo) error {
	if !s.opts.SSLRequireClientCert {
		return nil
	}
	if ci.TLSState != nil && len(ci.TLSState.VerifiedChains) > 0 {
		return nil
	}
	if ci.CertValid {
		return nil
	}
	s.log.Info("client didn't present valid SSL certificate", "service", ci.Service, "rip", ci.Remote.Addr(), "session", ci.SessionID)
	return &Error{Kind: Failed, Err: errors.New("auth_ssl_require_client_cert: no valid client certificate")}
}
