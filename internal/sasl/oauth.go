package sasl

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// TokenFunc checks an OAuth 2.0 bearer token for user.
type TokenFunc func(ctx context.Context, user, token string) error

// The error challenges sent before failing, as Dovecot 2.3 sends them.
const (
	oauthBearerError = `{"status":"invalid_token","schemes":"bearer","scope":"mail"}`
	xoauth2Error     = `{"status":"401","schemes":"bearer","scope":"mail"}`
)

// oauth is OAUTHBEARER (RFC 7628) and XOAUTH2 (Google's format). A
// refused token is answered with an error challenge; the client's reply
// to it ends the exchange as failed (RFC 7628 section 3.2.3).
type oauth struct {
	name string
	fn   TokenFunc
	step int
	err  error
}

// NewOAuthBearer returns an OAUTHBEARER exchange.
func NewOAuthBearer(fn TokenFunc) Mechanism { return &oauth{name: OAuthBearer, fn: fn} }

// NewXOAuth2 returns an XOAUTH2 exchange.
func NewXOAuth2(fn TokenFunc) Mechanism { return &oauth{name: XOAuth2, fn: fn} }

func (m *oauth) Name() string { return m.name }

func (m *oauth) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	switch m.step {
	case 0:
		if resp == nil {
			m.step = 1
			return []byte{}, false, nil
		}
		fallthrough
	case 1:
		m.step = 2
		user, token, err := m.parse(resp)
		if err != nil {
			return nil, false, err
		}
		if err := m.fn(ctx, user, token); err != nil {
			m.err = err
			if m.name == XOAuth2 {
				return []byte(xoauth2Error), false, nil
			}
			return []byte(oauthBearerError), false, nil
		}
		return nil, true, nil
	case 2:
		m.step = 3
		return nil, false, m.err
	}
	return nil, false, ErrUnexpected
}

func (m *oauth) parse(b []byte) (user, token string, err error) {
	if m.name == XOAuth2 {
		return ParseXOAuth2(b)
	}
	return ParseOAuthBearer(b)
}

// ParseOAuthBearer reads an OAUTHBEARER client response: a GS2 header
// naming the user ("n,a=user,"), then ^A-separated key=value pairs, one
// of them "auth=Bearer TOKEN", ended by ^A^A.
func ParseOAuthBearer(b []byte) (user, token string, err error) {
	if len(b) > MaxResponse || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "", "", fmt.Errorf("oauthbearer: bad response: %w", ErrMalformed)
	}
	s := string(b)
	gs2, rest, ok := strings.Cut(s, "\x01")
	if !ok {
		return "", "", fmt.Errorf("oauthbearer: no key/value pairs: %w", ErrMalformed)
	}
	g := strings.Split(gs2, ",")
	if len(g) != 3 || (g[0] != "n" && g[0] != "y") || g[2] != "" {
		return "", "", fmt.Errorf("oauthbearer: bad gs2 header: %w", ErrMalformed)
	}
	z, ok := strings.CutPrefix(g[1], "a=")
	if !ok || z == "" {
		return "", "", fmt.Errorf("oauthbearer: no user in gs2 header: %w", ErrMalformed)
	}
	if user, err = unescapeSASLName(z); err != nil {
		return "", "", err
	}
	token, err = bearerToken(rest)
	return user, token, err
}

// ParseXOAuth2 reads "user=USER^Aauth=Bearer TOKEN^A^A".
func ParseXOAuth2(b []byte) (user, token string, err error) {
	if len(b) > MaxResponse || !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "", "", fmt.Errorf("xoauth2: bad response: %w", ErrMalformed)
	}
	first, rest, ok := strings.Cut(string(b), "\x01")
	if user, ok = strings.CutPrefix(first, "user="); !ok || user == "" {
		return "", "", fmt.Errorf("xoauth2: no user: %w", ErrMalformed)
	}
	token, err = bearerToken(rest)
	return user, token, err
}

// bearerToken finds auth=Bearer in ^A-separated pairs ended by ^A^A (a
// lone trailing ^A is tolerated, as clients differ).
func bearerToken(s string) (string, error) {
	s = strings.TrimSuffix(s, "\x01")
	for _, kv := range strings.Split(s, "\x01") {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.EqualFold(k, "auth") {
			continue
		}
		scheme, tok, ok := strings.Cut(v, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return "", fmt.Errorf("oauth: auth is not a bearer token: %w", ErrMalformed)
		}
		return strings.TrimSpace(tok), nil
	}
	return "", fmt.Errorf("oauth: no auth=Bearer: %w", ErrMalformed)
}
