package oauth2db

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"roost/internal/config"
)

// Introspection modes (introspection_mode).
const (
	ModeAuth  = "auth"
	ModeGet   = "get"
	ModePost  = "post"
	ModeLocal = "local"
)

// Dovecot 2.3's defaults (db-oauth2.c).
const (
	DefaultUsernameAttribute = "email"
	DefaultUsernameFormat    = "%u"
	DefaultTimeout           = 0 // no timeout but the request context's
)

// Conf is a parsed dovecot-oauth2.conf.ext.
type Conf struct {
	Path              string
	TokeninfoURL      string
	IntrospectionURL  string
	Mode              string
	ClientID          string
	ClientSecret      string
	UsernameAttribute string
	UsernameFormat    string // username_validation_format
	ActiveAttribute   string
	ActiveValue       string
	Scope             []string
	Issuers           []string
	PassAttrs         string
	KeyDict           string // local_validation_key_dict
	ForceIntrospect   bool
	Timeout           time.Duration
}

// setters maps each key of dovecot-oauth2.conf.ext to how it is read; a
// nil setter is a key accepted and ignored.
func (c *Conf) setters() map[string]func(string) error {
	str := func(p *string) func(string) error { return func(v string) error { *p = v; return nil } }
	return map[string]func(string) error{
		"tokeninfo_url": str(&c.TokeninfoURL), "introspection_url": str(&c.IntrospectionURL),
		"introspection_mode": str(&c.Mode), "client_id": str(&c.ClientID), "client_secret": str(&c.ClientSecret),
		"username_attribute": str(&c.UsernameAttribute), "username_validation_format": str(&c.UsernameFormat),
		"active_attribute": str(&c.ActiveAttribute), "active_value": str(&c.ActiveValue),
		"pass_attrs": str(&c.PassAttrs), "local_validation_key_dict": str(&c.KeyDict),
		"scope":   func(v string) error { c.Scope = strings.Fields(v); return nil },
		"issuers": func(v string) error { c.Issuers = strings.Fields(v); return nil },
		"force_introspection": func(v string) error {
			b, err := parseBool(v)
			c.ForceIntrospect = b
			return err
		},
		"timeout_msecs": func(v string) error {
			n, err := strconv.ParseUint(v, 10, 32)
			c.Timeout = time.Duration(n) * time.Millisecond
			return err
		},
		"grant_url": nil, "use_grant_password": nil, "openid_configuration_url": nil,
		"send_auth_headers": nil, "max_idle_time_msecs": nil, "max_parallel_connections": nil,
		"max_pipelined_requests": nil, "rawlog_dir": nil, "debug": nil, "blocking": nil,
		"tls_ca_cert_file": nil, "tls_ca_cert_dir": nil, "tls_cert_file": nil, "tls_key_file": nil,
		"tls_cipher_suite": nil, "tls_allow_invalid_cert": nil,
	}
}

// ParseConfFile reads a dovecot-oauth2.conf.ext file. Errors carry file:line.
func ParseConfFile(path string) (*Conf, error) {
	f, err := config.ParseFileOptions(path, config.Options{FS: config.OS{}, NoExpand: true})
	if err != nil {
		return nil, fmt.Errorf("oauth2: %w", err)
	}
	c := &Conf{Path: path, UsernameAttribute: DefaultUsernameAttribute, UsernameFormat: DefaultUsernameFormat}
	set := c.setters()
	for _, n := range f.Root.Children {
		if n.Section {
			return nil, fmt.Errorf("%s: oauth2: unexpected section %q", n.Pos, n.Key)
		}
		fn, ok := set[n.Key]
		if !ok {
			return nil, fmt.Errorf("%s: oauth2: unknown setting %q", n.Pos, n.Key)
		}
		if fn == nil {
			continue
		}
		if err := fn(n.Value); err != nil {
			return nil, fmt.Errorf("%s: oauth2: %s: %w", n.Pos, n.Key, err)
		}
	}
	return c, c.validate()
}

func (c *Conf) validate() error {
	if c.Mode == "" {
		c.Mode = ModeAuth
		if c.IntrospectionURL == "" && c.TokeninfoURL != "" {
			c.Mode = ModeGet
		}
	}
	c.Mode = strings.ToLower(c.Mode)
	switch c.Mode {
	case ModeLocal:
		if c.KeyDict == "" {
			return fmt.Errorf("%s: oauth2: introspection_mode = local needs local_validation_key_dict", c.Path)
		}
	case ModeAuth, ModeGet, ModePost:
		if c.introspectURL() == "" {
			return fmt.Errorf("%s: oauth2: introspection_mode = %s needs introspection_url or tokeninfo_url", c.Path, c.Mode)
		}
		if _, err := url.Parse(c.introspectURL()); err != nil {
			return fmt.Errorf("%s: oauth2: %w", c.Path, err)
		}
	default:
		return fmt.Errorf("%s: oauth2: unknown introspection_mode %q (auth, get, post or local)", c.Path, c.Mode)
	}
	return nil
}

// introspectURL is the URL asked in the network modes: get prefers
// tokeninfo_url, the others introspection_url.
func (c *Conf) introspectURL() string {
	if c.Mode == ModeGet && c.TokeninfoURL != "" {
		return c.TokeninfoURL
	}
	if c.IntrospectionURL != "" {
		return c.IntrospectionURL
	}
	return c.TokeninfoURL
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "y", "true", "1":
		return true, nil
	case "no", "n", "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", v)
}
