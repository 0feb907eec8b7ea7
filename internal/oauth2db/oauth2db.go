package oauth2db

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"roost/internal/auth"
	"roost/internal/varexpand"
)

// maxResponse bounds an introspection response body.
const maxResponse = 1 << 20

// Options configure a Passdb.
type Options struct {
	// Client makes introspection requests (http.DefaultClient when nil).
	Client *http.Client
	// Now is the clock for exp/nbf/iat (time.Now when nil).
	Now func() time.Time
}

// Passdb is the oauth2 passdb: VerifyPlain's password is the token.
type Passdb struct {
	conf *Conf
	keys KeySource
	opts Options
}

// Open reads the dovecot-oauth2.conf.ext at path (the passdb's args).
func Open(path string, opts Options) (*Passdb, error) {
	c, err := ParseConfFile(strings.TrimSpace(path))
	if err != nil {
		return nil, err
	}
	return New(c, opts)
}

// New builds a Passdb from a parsed configuration.
func New(c *Conf, opts Options) (*Passdb, error) {
	p := &Passdb{conf: c, opts: opts}
	if p.opts.Client == nil {
		p.opts.Client = http.DefaultClient
	}
	if p.opts.Now == nil {
		p.opts.Now = time.Now
	}
	if c.Mode == ModeLocal {
		k, err := ParseKeyDict(c.KeyDict)
		if err != nil {
			return nil, fmt.Errorf("oauth2: %w", err)
		}
		p.keys = k
	}
	return p, nil
}

// VerifyPlain validates token for req.User.
func (p *Passdb) VerifyPlain(ctx context.Context, req *auth.Request, token string) auth.PassResult {
	claims, err := p.claims(ctx, token)
	if err != nil {
		if errors.Is(err, errInvalid) {
			return auth.PassResult{Status: auth.PasswordMismatch, Err: err}
		}
		return auth.PassResult{Status: auth.InternalFail, Err: err}
	}
	if err := p.check(req, claims); err != nil {
		return auth.PassResult{Status: auth.PasswordMismatch, Err: err}
	}
	fields, order, err := p.passAttrs(req, claims)
	if err != nil {
		return auth.PassResult{Status: auth.InternalFail, Err: err}
	}
	return auth.PassResult{Status: auth.OK, Fields: fields, Order: order}
}

// LookupCredentials is not possible: a token cannot be looked up.
func (p *Passdb) LookupCredentials(context.Context, *auth.Request) auth.PassResult {
	return auth.PassResult{Status: auth.SchemeNotAvailable, Err: errors.New("oauth2: credentials lookups are not supported")}
}

// claims validates the token locally or asks the introspection endpoint.
func (p *Passdb) claims(ctx context.Context, token string) (map[string]any, error) {
	if token == "" || len(token) > MaxTokenLen {
		return nil, invalid("empty or oversized token")
	}
	if p.conf.Mode == ModeLocal {
		return ValidateJWT(token, p.keys, p.conf.Issuers, p.conf.ClientID, p.opts.Now())
	}
	if p.conf.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.conf.Timeout)
		defer cancel()
	}
	r, err := p.request(ctx, token)
	if err != nil {
		return nil, err
	}
	resp, err := p.opts.Client.Do(r)
	if err != nil {
		return nil, fmt.Errorf("oauth2 introspection: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("oauth2 introspection: read: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, invalid("introspection answered %s", resp.Status)
	case resp.StatusCode/100 != 2:
		return nil, fmt.Errorf("oauth2 introspection: %s", resp.Status)
	}
	claims := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("oauth2 introspection: bad JSON: %w", err)
	}
	if p.conf.Mode == ModePost {
		// RFC 7662 section 2.2: "active" is required.
		if a, ok := claims["active"].(bool); !ok || !a {
			return nil, invalid("token is not active")
		}
	}
	return claims, nil
}

// request builds the introspection request of the configured mode.
func (p *Passdb) request(ctx context.Context, token string) (*http.Request, error) {
	u := p.conf.introspectURL()
	var r *http.Request
	var err error
	switch p.conf.Mode {
	case ModeGet:
		r, err = http.NewRequestWithContext(ctx, http.MethodGet, u+url.QueryEscape(token), nil)
	case ModePost:
		form := url.Values{"token": {token}}.Encode()
		r, err = http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form))
		if err == nil {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if p.conf.ClientID != "" {
				r.SetBasicAuth(p.conf.ClientID, p.conf.ClientSecret)
			}
		}
	default:
		r, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil {
			r.Header.Set("Authorization", "Bearer "+token)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("oauth2 introspection: %w", err)
	}
	r.Header.Set("Accept", "application/json")
	return r, nil
}

// check applies the username, active and scope rules.
func (p *Passdb) check(req *auth.Request, claims map[string]any) error {
	want, err := req.Expand(p.conf.UsernameFormat)
	if err != nil {
		return fmt.Errorf("username_validation_format: %w", err)
	}
	got, ok := claimString(claims, p.conf.UsernameAttribute)
	if !ok {
		return invalid("no %s in token", p.conf.UsernameAttribute)
	}
	if got != want {
		return invalid("username mismatch: token has %s=%q", p.conf.UsernameAttribute, got)
	}
	if a := p.conf.ActiveAttribute; a != "" {
		if v, _ := claimString(claims, a); v != p.conf.ActiveValue {
			return invalid("%s is not %q", a, p.conf.ActiveValue)
		}
	}
	if len(p.conf.Scope) > 0 {
		s, _ := claimString(claims, "scope")
		have := strings.Fields(s)
		for _, need := range p.conf.Scope {
			if !slices.Contains(have, need) {
				return invalid("token lacks scope %q", need)
			}
		}
	}
	return nil
}

// claimString renders a claim as Dovecot flattens JSON values.
func claimString(claims map[string]any, k string) (string, bool) {
	v, ok := claims[k]
	if !ok || v == nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case json.Number:
		return x.String(), true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

// passAttrs expands pass_attrs ("key=%{oauth2:claim} ..."), in order.
func (p *Passdb) passAttrs(req *auth.Request, claims map[string]any) (auth.Fields, []string, error) {
	f := auth.Fields{}
	var order []string
	if strings.TrimSpace(p.conf.PassAttrs) == "" {
		return f, order, nil
	}
	vars := req.Vars()
	look := varexpand.LookupFunc(func(name string) (string, bool) {
		if c, ok := strings.CutPrefix(name, "oauth2:"); ok {
			v, _ := claimString(claims, c)
			return v, true
		}
		return vars.Lookup(name)
	})
	for _, kv := range strings.Fields(p.conf.PassAttrs) {
		k, tmpl, _ := strings.Cut(kv, "=")
		v, err := varexpand.Expand(tmpl, look)
		if err != nil {
			return nil, nil, fmt.Errorf("pass_attrs %s: %w", k, err)
		}
		if _, dup := f[k]; !dup {
			order = append(order, k)
		}
		f[k] = v
	}
	return f, order, nil
}
