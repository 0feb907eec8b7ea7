package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"roost/internal/auth"
	"roost/internal/varexpand"
)

// DefaultQueryTimeout bounds one query when Options leaves it zero.
const DefaultQueryTimeout = 10 * time.Second

// Options are the driver's run-time options.
type Options struct {
	QueryTimeout time.Duration // 0 means DefaultQueryTimeout
}

// DB is one dovecot-sql.conf.ext: its settings and connection pools,
// shared by the passdb and userdb that name the same file.
type DB struct {
	conf    *Conf
	hosts   []*sql.DB // tried in order
	escape  func(string) string
	timeout time.Duration
}

// Open parses the args file and prepares the pools; no connection is made
// until the first query.
func Open(path string, opts Options) (*DB, error) {
	c, err := ParseConfFile(strings.TrimSpace(path))
	if err != nil {
		return nil, err
	}
	return OpenConf(c, opts)
}

// OpenConf prepares the pools for a parsed configuration.
func OpenConf(c *Conf, opts Options) (*DB, error) {
	hosts, err := openHosts(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Path, err)
	}
	t := opts.QueryTimeout
	if t <= 0 {
		t = DefaultQueryTimeout
	}
	return &DB{conf: c, hosts: hosts, escape: escaper(c.Driver), timeout: t}, nil
}

// Close closes every pool.
func (db *DB) Close() error {
	closeAll(db.hosts)
	return nil
}

// Conf returns the parsed configuration.
func (db *DB) Conf() *Conf { return db.conf }

// errNUL: a value with a NUL byte cannot be a user name in any database.
var errNUL = errors.New("NUL byte in a query variable")

// expand fills a query template with escaped values.
func (db *DB) expand(query string, vars varexpand.Lookup) (string, error) {
	nul := false
	e := varexpand.Expander{Vars: vars, Escape: func(v string) string {
		if strings.IndexByte(v, 0) >= 0 {
			nul = true
		}
		return db.escape(v)
	}}
	q, err := e.Expand(query)
	if err != nil {
		return "", fmt.Errorf("expand query: %w", err)
	}
	if nul {
		return "", errNUL
	}
	return q, nil
}

// row is one result row: column name to value, NULL columns left out,
// in column order.
type row struct {
	names  []string
	values map[string]string
}

func (r row) has(name string) bool {
	_, ok := r.values[name]
	return ok
}

// query runs q on the first host that answers and returns up to max rows
// (max 0: all, each passed to fn).
func (db *DB) query(ctx context.Context, q string, fn func(row) error) (nrows int, err error) {
	for _, h := range db.hosts {
		nrows, err = db.queryHost(ctx, h, q, fn)
		if err == nil || ctx.Err() != nil || nrows > 0 {
			return nrows, err
		}
	}
	return nrows, err
}

func (db *DB) queryHost(ctx context.Context, h *sql.DB, q string, fn func(row) error) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, db.timeout)
	defer cancel()
	rows, err := h.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("%s query: %w", db.conf.Driver, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, fmt.Errorf("%s columns: %w", db.conf.Driver, err)
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("%s scan: %w", db.conf.Driver, err)
		}
		r := row{names: cols, values: make(map[string]string, len(cols))}
		for i, c := range cols {
			if vals[i].Valid && c != "" {
				r.values[c] = vals[i].String
			}
		}
		n++
		if err := fn(r); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("%s query: %w", db.conf.Driver, err)
	}
	return n, nil
}

// errStop ends a row loop early without failing.
var errStop = errors.New("stop")

// lookupRows runs a per-user query and returns its first two rows.
func (db *DB) lookupRows(ctx context.Context, req *auth.Request, query string) ([]row, error) {
	q, err := db.expand(query, req.Vars())
	if err != nil {
		return nil, err
	}
	var rows []row
	_, err = db.query(ctx, q, func(r row) error {
		rows = append(rows, r)
		if len(rows) == 2 {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return rows, nil
}

// userName applies user, username and domain columns to the current user
// name, as Dovecot's auth_request_set_field does.
func userName(cur string, r row) (string, bool) {
	if u, ok := r.values["user"]; ok && u != "" {
		return u, true
	}
	name, domain, hasDomain := strings.Cut(cur, "@")
	changed := false
	if v, ok := r.values["username"]; ok && v != "" {
		if strings.Contains(v, "@") {
			return v, true
		}
		name, changed = v, true
	}
	if v, ok := r.values["domain"]; ok {
		domain, hasDomain, changed = v, v != "", true
	}
	if !changed {
		return cur, false
	}
	if hasDomain {
		return name + "@" + domain, true
	}
	return name, true
}
