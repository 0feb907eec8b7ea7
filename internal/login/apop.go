package login

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strings"

	"roost/internal/auth"
)

// APOPEnabled reports whether auth_mechanisms names APOP, which POP3
// then offers with a challenge in its greeting.
func (s *Service) APOPEnabled() bool { return s.apop }

// APOP checks a POP3 APOP digest (RFC 1939 section 7): the lowercase hex
// MD5 of challenge followed by the user's plaintext password, which the
// passdb must be able to give (a PLAIN or CLEAR-compatible scheme, as in
// Dovecot). Failures wait out auth_failure_delay like any other login.
func (s *Service) APOP(ctx context.Context, ci ConnInfo, user, challenge, digest string) (*Session, error) {
	if !s.apop {
		return nil, &Error{Kind: UnknownMechanism}
	}
	if err := s.checkClientCert(ci); err != nil {
		return nil, err
	}
	if err := s.opts.Penalty.Wait(ctx, ci.Remote.Addr()); err != nil {
		return nil, &Error{Kind: TempFail, Err: err}
	}
	start := s.auth.Now()
	req := s.request(ci, "APOP")
	req.User = s.withRealm(user)
	res := s.auth.LookupCredentials(ctx, req, "PLAIN")
	switch res.Status {
	case auth.OK:
		sum := md5.Sum([]byte(challenge + string(res.Credentials)))
		want := hex.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(digest))) != 1 {
			res = auth.Result{Status: auth.PasswordMismatch, User: res.User, Err: errors.New("APOP digest mismatch")}
		}
	case auth.SchemeNotAvailable:
		s.log.Warn("APOP needs PLAIN credentials, which the stored password cannot give: store PLAIN passwords, or remove APOP from auth_mechanisms",
			"user", req.User, "service", req.Service, "session", req.SessionID, "error", errString(res.Err))
		res.Status = auth.PasswordMismatch
	}
	res.Credentials = nil
	return s.complete(ctx, req, res, start)
}
