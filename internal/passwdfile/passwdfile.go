package passwdfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"roost/internal/auth"
)

// Args are the driver's "args =" options.
type Args struct {
	Scheme         string // default scheme for passwords without prefix
	UsernameFormat string // lookup key template, default "%u"
	Path           string // may contain %-variables
}

// ParseArgs reads "scheme=X username_format=%u /path". The default
// scheme is CRYPT, as in Dovecot.
func ParseArgs(s string) (Args, error) {
	a := Args{Scheme: "CRYPT", UsernameFormat: "%u"}
	for _, w := range strings.Fields(s) {
		switch {
		case strings.HasPrefix(w, "scheme="):
			a.Scheme = strings.ToUpper(strings.TrimPrefix(w, "scheme="))
		case strings.HasPrefix(w, "username_format="):
			a.UsernameFormat = strings.TrimPrefix(w, "username_format=")
		case a.Path == "" && !strings.Contains(w, "="):
			a.Path = w
		default:
			return Args{}, fmt.Errorf("passwd-file: unknown argument %q", w)
		}
	}
	if a.Path == "" {
		return Args{}, errors.New("passwd-file: no file path in args")
	}
	return a, nil
}

// Options are shared by the passdb and userdb.
type Options struct {
	Logger *slog.Logger // default discards
}

// DB is the file cache behind one "args" line.
type DB struct {
	args Args
	log  *slog.Logger

	mu    sync.Mutex       // guards following
	files map[string]*file // by expanded path
}

// file is one cached passwd-file.
type file struct {
	path string

	mu    sync.Mutex // guards following
	stamp fileStamp
	users *Users
}

type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
}

func newDB(args string, opts Options) (*DB, error) {
	a, err := ParseArgs(args)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &DB{args: a, log: log, files: map[string]*file{}}, nil
}

// errMissing means the file does not exist: every user is unknown.
var errMissing = errors.New("passwd-file missing")

// lookup finds the request's user. It returns (nil, nil) for an unknown
// user and an error for internal failures.
func (db *DB) lookup(req *auth.Request) (*Entry, error) {
	key, err := req.Expand(db.args.UsernameFormat)
	if err != nil {
		return nil, fmt.Errorf("passwd-file username_format: %w", err)
	}
	users, err := db.users(req)
	if errors.Is(err, errMissing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return users.ByName[key], nil
}

func (db *DB) users(req *auth.Request) (*Users, error) {
	path, err := req.Expand(db.args.Path)
	if err != nil {
		return nil, fmt.Errorf("passwd-file path: %w", err)
	}
	f := db.file(path)
	users, err := f.sync(db.log)
	if errors.Is(err, errMissing) {
		db.forget(f)
	}
	return users, err
}

// forget drops a missing file from the cache, so client-chosen domains
// cannot grow it.
func (db *DB) forget(f *file) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.files[f.path] == f {
		delete(db.files, f.path)
	}
}

func (db *DB) file(path string) *file {
	db.mu.Lock()
	defer db.mu.Unlock()
	f, ok := db.files[path]
	if !ok {
		f = &file{path: path}
		db.files[path] = f
	}
	return f
}

// sync re-reads the file when it changed since the last read.
func (f *file) sync(log *slog.Logger) (*Users, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fi, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		log.Info("missing passwd file", "path", f.path)
		f.users = nil
		return nil, errMissing
	}
	if err != nil {
		return nil, fmt.Errorf("passwd-file: %w", err)
	}
	st := stampOf(fi)
	if f.users != nil && st == f.stamp {
		return f.users, nil
	}
	r, err := os.Open(f.path)
	if err != nil {
		return nil, fmt.Errorf("passwd-file: %w", err)
	}
	defer r.Close()
	users, lineErrs, err := Parse(r, f.path)
	for _, le := range lineErrs {
		log.Error("passwd-file: skipping line", "error", le.Error())
	}
	if err != nil {
		return nil, err
	}
	f.users, f.stamp = users, st
	return users, nil
}

func stampOf(fi fs.FileInfo) fileStamp {
	st := fileStamp{mtime: fi.ModTime(), size: fi.Size()}
	if s, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = s.Ino
	}
	return st
}

// expandFields expands %-templates in extra field values.
func expandFields(req *auth.Request, f auth.Fields) (auth.Fields, error) {
	out := make(auth.Fields, len(f))
	for k, v := range f {
		e, err := req.Expand(v)
		if err != nil {
			return nil, fmt.Errorf("passwd-file field %s: %w", k, err)
		}
		out[k] = e
	}
	return out, nil
}

// Passdb is the passwd-file passdb.
type Passdb struct{ db *DB }

// NewPassdb parses args ("scheme=X username_format=%u /path").
func NewPassdb(args string, opts Options) (*Passdb, error) {
	db, err := newDB(args, opts)
	if err != nil {
		return nil, err
	}
	return &Passdb{db: db}, nil
}

func (p *Passdb) entry(req *auth.Request) (*Entry, auth.Fields, auth.PassResult, bool) {
	e, err := p.db.lookup(req)
	if err != nil {
		return nil, nil, auth.PassResult{Status: auth.InternalFail, Err: err}, false
	}
	if e == nil {
		return nil, nil, auth.PassResult{Status: auth.UserUnknown}, false
	}
	fields, err := expandFields(req, e.Extra)
	if err != nil {
		return nil, nil, auth.PassResult{Status: auth.InternalFail, Err: err}, false
	}
	return e, fields, auth.PassResult{}, true
}

// VerifyPlain implements auth.Passdb.
func (p *Passdb) VerifyPlain(ctx context.Context, req *auth.Request, password string) auth.PassResult {
	e, fields, res, ok := p.entry(req)
	if !ok {
		return res
	}
	st, err := req.VerifyPassword(ctx, password, e.Password, p.db.args.Scheme, fields)
	return auth.PassResult{Status: st, Fields: fields, Order: e.Order, Err: err}
}

// LookupCredentials implements auth.Passdb.
func (p *Passdb) LookupCredentials(_ context.Context, req *auth.Request) auth.PassResult {
	e, fields, res, ok := p.entry(req)
	if !ok {
		return res
	}
	return auth.PassResult{Status: auth.OK, Password: e.Password, Scheme: p.db.args.Scheme, Fields: fields, Order: e.Order}
}

// Userdb is the passwd-file userdb.
type Userdb struct{ db *DB }

// NewUserdb parses args ("username_format=%u /path").
func NewUserdb(args string, opts Options) (*Userdb, error) {
	db, err := newDB(args, opts)
	if err != nil {
		return nil, err
	}
	return &Userdb{db: db}, nil
}

// LookupUser implements auth.Userdb: uid, gid, home and the userdb_*
// extra fields (prefix removed).
func (u *Userdb) LookupUser(_ context.Context, req *auth.Request) auth.UserResult {
	e, err := u.db.lookup(req)
	if err != nil {
		return auth.UserResult{Status: auth.InternalFail, Err: err}
	}
	if e == nil {
		return auth.UserResult{Status: auth.UserUnknown}
	}
	f := auth.Fields{}
	order := []string{"uid", "gid", "home"}
	for _, k := range e.Extra.Keys(e.Order) {
		if name, ok := strings.CutPrefix(k, "userdb_"); ok {
			f[name] = e.Extra[k]
			order = append(order, name)
		}
	}
	if f, err = expandFields(req, f); err != nil {
		return auth.UserResult{Status: auth.InternalFail, Err: err}
	}
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	set("uid", e.UID)
	set("gid", e.GID)
	set("home", e.Home)
	return auth.UserResult{Status: auth.OK, Fields: f, Order: order}
}

// IterateUsers implements auth.UserIterator for a path without variables.
func (u *Userdb) IterateUsers(ctx context.Context, fn func(string) error) error {
	if strings.Contains(u.db.args.Path, "%") {
		return fmt.Errorf("passwd-file %s: cannot iterate a path with variables", u.db.args.Path)
	}
	users, err := u.db.file(u.db.args.Path).sync(u.db.log)
	if errors.Is(err, errMissing) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, name := range users.Order {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}

// CacheKey implements auth.CacheKeyer: the user and the path's variables,
// as Dovecot's passwd-file default cache key.
func (p *Passdb) CacheKey() string { return auth.CacheKeyOf("%u", p.db.args.Path) }

// CacheKey implements auth.CacheKeyer.
func (u *Userdb) CacheKey() string { return auth.CacheKeyOf("%u", u.db.args.Path) }
