package sasl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxResponse bounds one client response, as Dovecot's auth request line
// limit (AUTH_CLIENT_MAX_LINE_LENGTH) bounds it.
const MaxResponse = 8192

// Mechanism names.
const (
	Plain            = "PLAIN"
	Login            = "LOGIN"
	CRAMMD5          = "CRAM-MD5"
	DigestMD5        = "DIGEST-MD5"
	SCRAMSHA1        = "SCRAM-SHA-1"
	SCRAMSHA1Plus    = "SCRAM-SHA-1-PLUS"
	SCRAMSHA256      = "SCRAM-SHA-256"
	SCRAMSHA256Plus  = "SCRAM-SHA-256-PLUS"
	External         = "EXTERNAL"
	Anonymous        = "ANONYMOUS"
	OAuthBearer      = "OAUTHBEARER"
	XOAuth2          = "XOAUTH2"
	mechNameMaxBytes = 64
)

// ErrMalformed reports client data the mechanism cannot parse. It is an
// authentication failure, not a protocol error.
var ErrMalformed = errors.New("sasl: malformed response")

// ErrUnexpected reports a response after the exchange finished.
var ErrUnexpected = errors.New("sasl: unexpected response")

// A Mechanism runs one server side exchange.
type Mechanism interface {
	// Name is the IANA mechanism name, upper case.
	Name() string
	// Next consumes a client response (nil for "no initial response") and
	// returns the next challenge. done is true once the exchange succeeded;
	// an error ends the exchange as failed. Errors returned by the
	// caller's callbacks are passed through unchanged (possibly wrapped).
	Next(ctx context.Context, response []byte) (challenge []byte, done bool, err error)
}

// PlainFunc checks a plaintext password. authzid is empty unless the
// client asked to act as a different user than authcid.
type PlainFunc func(ctx context.Context, authzid, authcid, password string) error

// Info describes a mechanism for capability lists, the auth-client
// protocol's MECH lines and policy.
type Info struct {
	Name string
	// Plaintext mechanisms send the password (or token) in the clear and
	// are hidden on insecure connections under disable_plaintext_auth.
	Plaintext bool
	// Credentials mechanisms need the stored credentials of Scheme, not a
	// password check (CRAM-MD5, DIGEST-MD5, SCRAM).
	Credentials bool
	// Scheme is the pwscheme name of the credentials a Credentials
	// mechanism needs.
	Scheme string
	// ChannelBinding mechanisms (-PLUS) need TLS channel binding data.
	ChannelBinding bool
	// Security properties, as Dovecot's MECH lines report them (mech.h
	// MECH_SEC_*); Postfix filters mechanisms with them.
	Anonymous, Dictionary, Active, ForwardSecrecy, MutualAuth bool
}

// Flags returns the security properties in Dovecot's MECH line words.
func (i Info) Flags() []string {
	var out []string
	for _, f := range []struct {
		on   bool
		name string
	}{{i.Anonymous, "anonymous"}, {i.Plaintext, "plaintext"}, {i.Dictionary, "dictionary"},
		{i.Active, "active"}, {i.ForwardSecrecy, "forward-secrecy"}, {i.MutualAuth, "mutual-auth"}} {
		if f.on {
			out = append(out, f.name)
		}
	}
	return out
}

// infos is every mechanism this package runs, in Dovecot's flag terms.
func infos() []Info {
	return []Info{
		{Name: Plain, Plaintext: true},
		{Name: Login, Plaintext: true},
		{Name: CRAMMD5, Credentials: true, Scheme: "CRAM-MD5", Dictionary: true, Active: true},
		{Name: DigestMD5, Credentials: true, Scheme: "DIGEST-MD5", Dictionary: true, Active: true, MutualAuth: true},
		{Name: SCRAMSHA1, Credentials: true, Scheme: "SCRAM-SHA-1", MutualAuth: true},
		{Name: SCRAMSHA1Plus, Credentials: true, Scheme: "SCRAM-SHA-1", MutualAuth: true, ChannelBinding: true},
		{Name: SCRAMSHA256, Credentials: true, Scheme: "SCRAM-SHA-256", MutualAuth: true},
		{Name: SCRAMSHA256Plus, Credentials: true, Scheme: "SCRAM-SHA-256", MutualAuth: true, ChannelBinding: true},
		{Name: External},
		{Name: Anonymous, Anonymous: true},
		{Name: OAuthBearer, Plaintext: true},
		{Name: XOAuth2, Plaintext: true},
	}
}

// Lookup returns what this package knows about a mechanism name.
func Lookup(name string) (Info, bool) {
	if len(name) > mechNameMaxBytes {
		return Info{}, false
	}
	up := strings.ToUpper(name)
	for _, i := range infos() {
		if i.Name == up {
			return i, true
		}
	}
	return Info{}, false
}

// Names lists every mechanism this package runs.
func Names() []string {
	var out []string
	for _, i := range infos() {
		out = append(out, i.Name)
	}
	return out
}

// ParsePlain splits a PLAIN message "authzid NUL authcid NUL passwd"
// (RFC 4616 section 2). authcid must be non-empty; names must be UTF-8
// without NUL. An authzid equal to authcid is returned empty.
func ParsePlain(msg []byte) (authzid, authcid, password string, err error) {
	if len(msg) > MaxResponse {
		return "", "", "", fmt.Errorf("plain: message too long: %w", ErrMalformed)
	}
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("plain: want 3 fields, have %d: %w", len(parts), ErrMalformed)
	}
	if len(parts[1]) == 0 {
		return "", "", "", fmt.Errorf("plain: empty authcid: %w", ErrMalformed)
	}
	if !utf8.Valid(parts[0]) || !utf8.Valid(parts[1]) {
		return "", "", "", fmt.Errorf("plain: identity not UTF-8: %w", ErrMalformed)
	}
	authzid, authcid, password = string(parts[0]), string(parts[1]), string(parts[2])
	if authzid == authcid {
		authzid = ""
	}
	return authzid, authcid, password, nil
}

// plain is the PLAIN mechanism (RFC 4616).
type plain struct {
	verify PlainFunc
	step   int
}

// NewPlain returns a PLAIN exchange that calls verify once.
func NewPlain(verify PlainFunc) Mechanism { return &plain{verify: verify} }

func (m *plain) Name() string { return Plain }

func (m *plain) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	if m.step == 0 && resp == nil {
		// No initial response: send an empty challenge.
		m.step = 1
		return []byte{}, false, nil
	}
	if m.step > 1 {
		return nil, false, ErrUnexpected
	}
	m.step = 2
	authzid, authcid, pw, err := ParsePlain(resp)
	if err != nil {
		return nil, false, err
	}
	if err := m.verify(ctx, authzid, authcid, pw); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// login is the LOGIN mechanism: prompts "Username:" and "Password:".
// An initial response, if any, is the user name (as Dovecot accepts).
type login struct {
	verify PlainFunc
	user   string
	step   int
}

// NewLogin returns a LOGIN exchange that calls verify once.
func NewLogin(verify PlainFunc) Mechanism { return &login{verify: verify} }

func (m *login) Name() string { return Login }

func (m *login) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch m.step {
	case 0:
		if resp == nil {
			m.step = 1
			return []byte("Username:"), false, nil
		}
		fallthrough
	case 1:
		if err := checkLoginField(resp); err != nil {
			return nil, false, err
		}
		if len(resp) == 0 || !utf8.Valid(resp) {
			return nil, false, fmt.Errorf("login: bad user name: %w", ErrMalformed)
		}
		m.user = string(resp)
		m.step = 2
		return []byte("Password:"), false, nil
	case 2:
		m.step = 3
		if err := checkLoginField(resp); err != nil {
			return nil, false, err
		}
		if err := m.verify(ctx, "", m.user, string(resp)); err != nil {
			return nil, false, err
		}
		return nil, true, nil
	}
	return nil, false, ErrUnexpected
}

func checkLoginField(b []byte) error {
	if len(b) > MaxResponse || bytes.IndexByte(b, 0) >= 0 {
		return fmt.Errorf("login: bad field: %w", ErrMalformed)
	}
	return nil
}
