package sqldb

import (
	"errors"
	"fmt"
	"strings"

	"roost/internal/config"
)

// Dovecot 2.3's defaults (db-sql.c).
const (
	DefaultPasswordQuery = "SELECT username, domain, password FROM users WHERE username = '%n' AND domain = '%d'"
	DefaultUserQuery     = "SELECT home, uid, gid FROM users WHERE username = '%n' AND domain = '%d'"
	DefaultIterateQuery  = "SELECT username, domain FROM users"
	DefaultPassScheme    = "MD5"
)

// Conf is a parsed dovecot-sql.conf.ext.
type Conf struct {
	Path          string
	Driver        string // "pgsql", "mysql" or "sqlite"
	Connect       string
	PasswordQuery string
	UserQuery     string
	IterateQuery  string
	Scheme        string // default_pass_scheme, upper case
}

// accepted lists the keys of dovecot-sql.conf.ext; ignored ones are
// read and have no effect in roost.
var accepted = map[string]bool{
	"driver": true, "connect": true, "password_query": true, "user_query": true,
	"iterate_query": true, "default_pass_scheme": true,
	"update_query": false, "userdb_warning_disable": false,
}

// ParseConfFile reads a dovecot-sql.conf.ext file. Errors carry file:line.
func ParseConfFile(path string) (*Conf, error) {
	f, err := config.ParseFileOptions(path, config.Options{FS: config.OS{}, NoExpand: true})
	if err != nil {
		return nil, fmt.Errorf("sql: %w", err)
	}
	return confFromTree(path, f.Root)
}

func confFromTree(path string, root *config.Node) (*Conf, error) {
	c := &Conf{Path: path, PasswordQuery: DefaultPasswordQuery, UserQuery: DefaultUserQuery,
		IterateQuery: DefaultIterateQuery, Scheme: DefaultPassScheme}
	dst := map[string]*string{
		"driver": &c.Driver, "connect": &c.Connect, "password_query": &c.PasswordQuery,
		"user_query": &c.UserQuery, "iterate_query": &c.IterateQuery, "default_pass_scheme": &c.Scheme,
	}
	for _, n := range root.Children {
		if n.Section {
			return nil, fmt.Errorf("%s: sql: unexpected section %q", n.Pos, n.Key)
		}
		if _, ok := accepted[n.Key]; !ok {
			return nil, fmt.Errorf("%s: sql: unknown setting %q", n.Pos, n.Key)
		}
		if p := dst[n.Key]; p != nil {
			*p = n.Value
		}
	}
	c.Driver = strings.ToLower(strings.TrimSpace(c.Driver))
	c.Scheme = strings.ToUpper(c.Scheme)
	switch c.Driver {
	case "pgsql", "mysql", "sqlite":
	case "":
		return nil, fmt.Errorf("%s: sql: driver not set (pgsql, mysql or sqlite)", path)
	default:
		return nil, fmt.Errorf("%s: sql: unknown driver %q (pgsql, mysql or sqlite)", path, c.Driver)
	}
	if strings.TrimSpace(c.Connect) == "" {
		return nil, fmt.Errorf("%s: sql: connect not set", path)
	}
	return c, nil
}

// hostConf is one database server of a connect string.
type hostConf struct {
	host     string // host name, IP or unix socket path; "" for the default
	params   [][2]string
	maxConns int
}

// DefaultMaxConns is Dovecot's per-host connection limit (maxconns=).
const DefaultMaxConns = 5

// parseConnect splits a pgsql/mysql connect string into one hostConf per
// host= entry (at least one). Values may be quoted with single quotes as
// in libpq.
func parseConnect(s string) ([]hostConf, error) {
	pairs, err := splitPairs(s)
	if err != nil {
		return nil, err
	}
	var hosts []string
	var params [][2]string
	maxConns := DefaultMaxConns
	for _, kv := range pairs {
		switch kv[0] {
		case "host":
			hosts = append(hosts, kv[1])
		case "maxconns":
			n, err := parsePositive(kv[1])
			if err != nil {
				return nil, fmt.Errorf("connect: maxconns: %w", err)
			}
			maxConns = n
		default:
			params = append(params, kv)
		}
	}
	if len(hosts) == 0 {
		hosts = []string{""}
	}
	out := make([]hostConf, len(hosts))
	for i, h := range hosts {
		out[i] = hostConf{host: h, params: params, maxConns: maxConns}
	}
	return out, nil
}

func parsePositive(s string) (int, error) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' || n > 1<<20 {
			return 0, fmt.Errorf("invalid number %q", s)
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 {
		return 0, fmt.Errorf("invalid number %q", s)
	}
	return n, nil
}

// splitPairs reads "k=v k2='v 2'" pairs.
func splitPairs(s string) ([][2]string, error) {
	var out [][2]string
	for i := 0; ; {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		eq := strings.IndexByte(s[i:], '=')
		if eq <= 0 {
			return nil, fmt.Errorf("connect: expecting key=value at %q", s[i:])
		}
		key := strings.TrimSpace(s[i : i+eq])
		i += eq + 1
		val, n, err := connectValue(s[i:])
		if err != nil {
			return nil, fmt.Errorf("connect: %s: %w", key, err)
		}
		i += n
		out = append(out, [2]string{key, val})
	}
}

func connectValue(s string) (string, int, error) {
	if !strings.HasPrefix(s, "'") {
		end := strings.IndexAny(s, " \t")
		if end < 0 {
			end = len(s)
		}
		return s[:end], end, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '\'':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, errors.New("unterminated quote")
}
