package ldapdb

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"roost/internal/config"
)

// Dovecot 2.3's defaults (db-ldap.c).
const (
	DefaultUserAttrs     = "homeDirectory=home,uidNumber=uid,gidNumber=gid"
	DefaultUserFilter    = "(&(objectClass=posixAccount)(uid=%u))"
	DefaultPassAttrs     = "userPassword=password"
	DefaultPassFilter    = "(&(objectClass=posixAccount)(uid=%u))"
	DefaultIterateAttrs  = "uid=user"
	DefaultIterateFilter = "(objectClass=posixAccount)"
	DefaultPassScheme    = "CRYPT"
)

// Conf is a parsed dovecot-ldap.conf.ext.
type Conf struct {
	Path           string
	URIs           []string // ldap:// or ldaps:// URIs, tried in order
	DN, DNPass     string
	AuthBind       bool
	AuthBindUserDN string
	Base           string
	Scope          int
	Deref          int
	UserFilter     string
	UserAttrs      []Attr
	PassFilter     string
	PassAttrs      []Attr
	IterateFilter  string
	IterateAttrs   []Attr
	Scheme         string
	StartTLS       bool
	TLS            *tls.Config
}

// keys lists the keys of dovecot-ldap.conf.ext: true for those roost
// uses, false for those accepted without effect.
var keys = map[string]bool{
	"hosts": true, "uris": true, "dn": true, "dnpass": true, "auth_bind": true,
	"auth_bind_userdn": true, "ldap_version": true, "base": true, "scope": true, "deref": true,
	"user_attrs": true, "user_filter": true, "pass_attrs": true, "pass_filter": true,
	"iterate_attrs": true, "iterate_filter": true, "default_pass_scheme": true, "tls": true,
	"tls_ca_cert_file": true, "tls_cert_file": true, "tls_key_file": true, "tls_require_cert": true,
	"tls_ca_cert_dir": false, "tls_cipher_suite": false, "debug_level": false, "ldaprc_path": false,
	"blocking": false, "sasl_bind": true, "sasl_mech": false, "sasl_realm": false, "sasl_authz_id": false,
}

// ParseConfFile reads a dovecot-ldap.conf.ext file. Errors carry file:line.
func ParseConfFile(path string) (*Conf, error) {
	f, err := config.ParseFileOptions(path, config.Options{FS: config.OS{}, NoExpand: true})
	if err != nil {
		return nil, fmt.Errorf("ldap: %w", err)
	}
	v := map[string]string{
		"ldap_version": "3", "scope": "subtree", "deref": "never", "auth_bind": "no", "tls": "no",
		"user_attrs": DefaultUserAttrs, "user_filter": DefaultUserFilter, "pass_attrs": DefaultPassAttrs,
		"pass_filter": DefaultPassFilter, "iterate_attrs": DefaultIterateAttrs,
		"iterate_filter": DefaultIterateFilter, "default_pass_scheme": DefaultPassScheme,
		"tls_require_cert": "demand", "sasl_bind": "no",
	}
	pos := map[string]config.Pos{}
	for _, n := range f.Root.Children {
		if n.Section {
			return nil, fmt.Errorf("%s: ldap: unexpected section %q", n.Pos, n.Key)
		}
		if _, ok := keys[n.Key]; !ok {
			return nil, fmt.Errorf("%s: ldap: unknown setting %q", n.Pos, n.Key)
		}
		v[n.Key], pos[n.Key] = n.Value, n.Pos
	}
	c, key, err := confFromValues(path, v)
	if err != nil {
		if p, ok := pos[key]; ok {
			return nil, fmt.Errorf("%s: ldap: %s: %w", p, key, err)
		}
		return nil, fmt.Errorf("%s: ldap: %s: %w", path, key, err)
	}
	return c, nil
}

// confFromValues checks the settings; on error it names the key at fault.
func confFromValues(path string, v map[string]string) (*Conf, string, error) {
	c := &Conf{Path: path, DN: v["dn"], DNPass: v["dnpass"], AuthBindUserDN: v["auth_bind_userdn"],
		Base: v["base"], UserFilter: v["user_filter"], PassFilter: v["pass_filter"],
		IterateFilter: v["iterate_filter"], Scheme: strings.ToUpper(v["default_pass_scheme"])}
	var err error
	if c.URIs, err = uris(v["hosts"], v["uris"]); err != nil {
		return nil, "uris", err
	}
	if v["ldap_version"] != "3" {
		return nil, "ldap_version", fmt.Errorf("only LDAPv3 is supported, not %q", v["ldap_version"])
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"auth_bind", &c.AuthBind}, {"tls", &c.StartTLS}} {
		if *b.dst, err = parseBool(v[b.key]); err != nil {
			return nil, b.key, err
		}
	}
	if sasl, err := parseBool(v["sasl_bind"]); err != nil || sasl {
		return nil, "sasl_bind", fmt.Errorf("SASL binds are not supported")
	}
	if c.Scope, err = parseScope(v["scope"]); err != nil {
		return nil, "scope", err
	}
	if c.Deref, err = parseDeref(v["deref"]); err != nil {
		return nil, "deref", err
	}
	for _, a := range []struct {
		key string
		dst *[]Attr
	}{{"user_attrs", &c.UserAttrs}, {"pass_attrs", &c.PassAttrs}, {"iterate_attrs", &c.IterateAttrs}} {
		if *a.dst, err = ParseAttrs(v[a.key]); err != nil {
			return nil, a.key, err
		}
	}
	if c.TLS, err = tlsConfig(v); err != nil {
		return nil, "tls_ca_cert_file", err
	}
	return c, "", nil
}

// uris turns hosts ("host[:port] ...") and uris into URIs; uris win.
func uris(hosts, list string) ([]string, error) {
	var out []string
	for _, u := range strings.Fields(list) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "ldap" && p.Scheme != "ldaps") || p.Host == "" {
			return nil, fmt.Errorf("invalid URI %q (ldap:// or ldaps://)", u)
		}
		out = append(out, u)
	}
	if len(out) > 0 {
		return out, nil
	}
	for _, h := range strings.Fields(hosts) {
		if !strings.Contains(h, ":") || strings.HasSuffix(h, "]") {
			h += ":389"
		}
		out = append(out, "ldap://"+h)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("neither hosts nor uris set")
	}
	return out, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "y", "1", "true":
		return true, nil
	case "no", "n", "0", "false", "":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", s)
}

func parseScope(s string) (int, error) {
	switch strings.ToLower(s) {
	case "base":
		return ldap.ScopeBaseObject, nil
	case "onelevel":
		return ldap.ScopeSingleLevel, nil
	case "subtree":
		return ldap.ScopeWholeSubtree, nil
	}
	return 0, fmt.Errorf("invalid scope %q (base, onelevel, subtree)", s)
}

func parseDeref(s string) (int, error) {
	switch strings.ToLower(s) {
	case "never":
		return ldap.NeverDerefAliases, nil
	case "searching":
		return ldap.DerefInSearching, nil
	case "finding":
		return ldap.DerefFindingBaseObj, nil
	case "always":
		return ldap.DerefAlways, nil
	}
	return 0, fmt.Errorf("invalid deref %q (never, searching, finding, always)", s)
}

// tlsConfig builds the client TLS configuration. tls_require_cert never,
// allow and try skip verification, as OpenLDAP's TLS_REQCERT.
func tlsConfig(v map[string]string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	switch strings.ToLower(v["tls_require_cert"]) {
	case "never", "allow", "try":
		tc.InsecureSkipVerify = true
	case "demand", "hard", "":
	default:
		return nil, fmt.Errorf("invalid tls_require_cert %q", v["tls_require_cert"])
	}
	if f := v["tls_ca_cert_file"]; f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificates", f)
		}
	}
	if f := v["tls_cert_file"]; f != "" {
		c, err := tls.LoadX509KeyPair(f, v["tls_key_file"])
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{c}
	}
	return tc, nil
}
