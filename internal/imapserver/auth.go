package imapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"

	"roost/internal/login"
)

// imapserver defines the small auth shapes it needs; LoginAuthenticator
// (auth_login.go) implements them with the login package, and tests use a
// tiny in-memory one.

// ConnInfo describes a client connection to the pre-auth policy.
type ConnInfo struct {
	Service   string // "imap"
	Local     netip.AddrPort
	Remote    netip.AddrPort
	TLS       bool   // the connection is TLS (implicit or after STARTTLS)
	SessionID string // Dovecot-style session id, as logged
	LocalName string // TLS SNI name, if any
	// TLSState is the connection's TLS state once the handshake is done
	// (implicit TLS or STARTTLS), nil before: SASL EXTERNAL reads the
	// verified client certificate, SCRAM -PLUS the channel binding data.
	TLSState *tls.ConnectionState
	// ServerCert is the DER leaf certificate the server presented, for
	// tls-server-end-point channel binding; nil without TLS.
	ServerCert []byte
}

// Session is an authenticated login.
type Session struct {
	User string // the canonical user name (userdb may rewrite it)
	// Method is the SASL mechanism, or "PLAIN" for the LOGIN command
	// (as Dovecot logs it).
	Method string
	// Login is the login package's session when the Authenticator is
	// LoginAuthenticator (userdb fields for Options.OpenUser); else nil.
	Login *login.Session
}

// Exchange is one SASL authentication in progress.
type Exchange interface {
	// Next takes the client's response (nil for no initial response)
	// and returns the next challenge, or a session when done.
	Next(ctx context.Context, resp []byte) (challenge []byte, s *Session, err error)
}

// Authenticator is the pre-auth policy and credential check
// (login.Service).
type Authenticator interface {
	PlaintextAllowed(ci ConnInfo) bool
	// Mechanisms lists the SASL mechanisms to advertise on ci.
	Mechanisms(ci ConnInfo) []string
	Login(ctx context.Context, ci ConnInfo, user, pass string) (*Session, error)
	Begin(ctx context.Context, ci ConnInfo, mech string) (Exchange, error)
}

// Auth errors an Authenticator returns (wrapped or not); anything else is
// reported as an internal error.
var (
	ErrAuthFailed      = errors.New("authentication failed")
	ErrAuthUnavailable = errors.New("authentication temporarily unavailable")
	ErrPrivacyRequired = errors.New("plaintext authentication disallowed")
	ErrUnknownMech     = errors.New("unsupported authentication mechanism")
	ErrAuthAborted     = errors.New("authentication aborted by client")
)
