package sqldb

import (
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers "sqlite"
)

// connTimeout bounds a connection attempt when the connect string does not.
const connTimeout = 5 * time.Second

// openHosts opens one lazily connecting pool per host of the connect string.
func openHosts(c *Conf) ([]*sql.DB, error) {
	if c.Driver == "sqlite" {
		db, err := openSQLite(c.Connect)
		if err != nil {
			return nil, err
		}
		return []*sql.DB{db}, nil
	}
	hosts, err := parseConnect(c.Connect)
	if err != nil {
		return nil, err
	}
	var dbs []*sql.DB
	for _, h := range hosts {
		var db *sql.DB
		if c.Driver == "pgsql" {
			db, err = openPgsql(h)
		} else {
			db, err = openMysql(h)
		}
		if err != nil {
			closeAll(dbs)
			return nil, err
		}
		db.SetMaxOpenConns(h.maxConns)
		db.SetMaxIdleConns(h.maxConns)
		db.SetConnMaxIdleTime(5 * time.Minute)
		dbs = append(dbs, db)
	}
	return dbs, nil
}

func closeAll(dbs []*sql.DB) {
	for _, db := range dbs {
		db.Close()
	}
}

// openPgsql builds a pgx configuration from libpq key=value pairs. The
// session always runs with standard_conforming_strings on, which the
// escaping relies on.
func openPgsql(h hostConf) (*sql.DB, error) {
	var b strings.Builder
	if h.host != "" {
		fmt.Fprintf(&b, "host=%s ", pgQuote(h.host))
	}
	hasTimeout := false
	for _, kv := range h.params {
		if kv[0] == "standard_conforming_strings" {
			continue
		}
		hasTimeout = hasTimeout || kv[0] == "connect_timeout"
		fmt.Fprintf(&b, "%s=%s ", kv[0], pgQuote(kv[1]))
	}
	if !hasTimeout {
		fmt.Fprintf(&b, "connect_timeout=%d ", int(connTimeout/time.Second))
	}
	cfg, err := pgx.ParseConfig(b.String())
	if err != nil {
		return nil, fmt.Errorf("pgsql connect: %w", redact(err, h))
	}
	cfg.RuntimeParams["standard_conforming_strings"] = "on"
	// Every query is different text; preparing them would only fill the
	// statement cache.
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	return stdlib.OpenDB(*cfg), nil
}

// redact keeps passwords out of configuration errors.
func redact(err error, h hostConf) error {
	msg := err.Error()
	for _, kv := range h.params {
		if kv[0] == "password" && kv[1] != "" {
			msg = strings.ReplaceAll(msg, kv[1], "********")
		}
	}
	return fmt.Errorf("%s", msg)
}

func pgQuote(v string) string {
	if v != "" && !strings.ContainsAny(v, " '\\\t") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// openMysql maps Dovecot's mysql connect keys to the Go driver.
func openMysql(h hostConf) (*sql.DB, error) {
	cfg := mysql.NewConfig()
	cfg.Timeout = connTimeout
	port := "3306"
	var tlsc tlsFiles
	for _, kv := range h.params {
		k, v := kv[0], kv[1]
		var err error
		switch k {
		case "port":
			port = v
		case "dbname":
			cfg.DBName = v
		case "user":
			cfg.User = v
		case "password":
			cfg.Passwd = v
		case "connect_timeout":
			cfg.Timeout, err = seconds(v)
		case "read_timeout":
			cfg.ReadTimeout, err = seconds(v)
		case "write_timeout":
			cfg.WriteTimeout, err = seconds(v)
		case "ssl_ca":
			tlsc.ca = v
		case "ssl_cert":
			tlsc.cert = v
		case "ssl_key":
			tlsc.key = v
		case "ssl_verify_server_cert":
			tlsc.verify = v == "yes" || v == "1"
		case "ssl_ca_path", "ssl_cipher", "client_flags", "option_file", "option_group", "charset":
		default:
			return nil, fmt.Errorf("mysql connect: unknown parameter %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("mysql connect: %s: %w", k, err)
		}
	}
	switch {
	case strings.HasPrefix(h.host, "/"):
		cfg.Net, cfg.Addr = "unix", h.host
	case h.host == "":
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort("localhost", port)
	default:
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(h.host, port)
	}
	if tlsc.ca != "" || tlsc.cert != "" {
		tc, err := tlsc.config(strings.Split(cfg.Addr, ":")[0])
		if err != nil {
			return nil, fmt.Errorf("mysql connect: %w", err)
		}
		cfg.TLS = tc
	}
	// The escaping uses backslashes; make sure the session honours them.
	cfg.Params = map[string]string{"sql_mode": "REPLACE(@@sql_mode,'NO_BACKSLASH_ESCAPES','')"}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("mysql connect: %w", err)
	}
	return sql.OpenDB(conn), nil
}

func seconds(v string) (time.Duration, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid seconds %q", v)
	}
	return time.Duration(n) * time.Second, nil
}

type tlsFiles struct {
	ca, cert, key string
	verify        bool
}

func (f tlsFiles) config(serverName string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: serverName, InsecureSkipVerify: !f.verify, MinVersion: tls.VersionTLS12}
	if f.ca != "" {
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, fmt.Errorf("ssl_ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ssl_ca %s: no certificates", f.ca)
		}
	}
	if f.cert != "" {
		c, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("ssl_cert: %w", err)
		}
		tc.Certificates = []tls.Certificate{c}
	}
	return tc, nil
}

// openSQLite opens the database file read-write, as Dovecot does, waiting
// for writers' locks rather than failing at once.
func openSQLite(path string) (*sql.DB, error) {
	path = strings.TrimSpace(path)
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite connect: invalid path %q", path)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		return nil, fmt.Errorf("sqlite connect: %w", err)
	}
	db.SetMaxOpenConns(DefaultMaxConns)
	return db, nil
}
