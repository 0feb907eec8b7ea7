package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"

	"roost/internal/pwscheme"
)

// Dovecot 2.3 defaults for the settings Options carries.
const (
	DefaultUsernameFormat = "%Lu"
	DefaultUsernameChars  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@"
	DefaultFailureDelay   = 2 * time.Second
	DefaultCacheTTL       = time.Hour
	// MaxUsernameLen bounds user names before any lookup.
	MaxUsernameLen = 255
)

// Options configures an Auth. The zero value of each field means "none"
// except where noted.
type Options struct {
	Passdbs []PassdbConfig // normal and master (Master: true) passdbs, in order
	Userdbs []UserdbConfig

	UsernameFormat      string // auth_username_format, e.g. "%Lu"
	UsernameChars       string // auth_username_chars; "" allows every character
	UsernameTranslation string // auth_username_translation: pairs "from to ..."
	MasterUserSeparator string // auth_master_user_separator, e.g. "*"

	// FailureDelay is auth_failure_delay; 0 means DefaultFailureDelay and
	// a negative value disables the delay.
	FailureDelay time.Duration
	// Now and Sleep default to time.Now and a context-aware timer.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger defaults to discarding.
	Logger *slog.Logger

	// CacheSize is auth_cache_size in bytes; 0 disables the cache.
	CacheSize int
	// CacheTTL (auth_cache_ttl) is how long a found user's entry lives;
	// CacheNegativeTTL (auth_cache_negative_ttl) an unknown user's, and
	// how long repeated password mismatches are answered from the cache.
	// Zero means Dovecot's default of one hour; negative disables
	// negative caching.
	CacheTTL, CacheNegativeTTL time.Duration
	// Workers bounds the slow password checks and blocking drivers that
	// run at once (GOMAXPROCS when 0).
	Workers int
}

// Auth runs the configured chains. It is immutable and safe for
// concurrent use.
type Auth struct {
	cache   *cache // nil without auth_cache_size
	pool    *pool
	passdbs []PassdbConfig
	masters []PassdbConfig
	userdbs []UserdbConfig
	opts    Options
	log     *slog.Logger
}

// New validates opts.
func New(opts Options) (*Auth, error) {
	a := &Auth{opts: opts, log: opts.Logger}
	for i, p := range opts.Passdbs {
		if p.Driver == nil {
			return nil, fmt.Errorf("passdb %d (%s): no driver", i+1, p.Name)
		}
		p.id = i + 1
		if p.Master {
			a.masters = append(a.masters, p)
		} else {
			a.passdbs = append(a.passdbs, p)
		}
	}
	for i, u := range opts.Userdbs {
		if u.Driver == nil {
			return nil, fmt.Errorf("userdb %d (%s): no driver", i+1, u.Name)
		}
		u.id = i + 1
		a.userdbs = append(a.userdbs, u)
	}
	if len(opts.UsernameTranslation)%2 != 0 {
		return nil, errors.New("auth_username_translation: odd number of characters")
	}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if a.opts.Now == nil {
		a.opts.Now = time.Now
	}
	if a.opts.Sleep == nil {
		a.opts.Sleep = sleep
	}
	if a.opts.FailureDelay == 0 {
		a.opts.FailureDelay = DefaultFailureDelay
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	a.pool = newPool(workers)
	if opts.CacheSize > 0 {
		ttl, neg := opts.CacheTTL, opts.CacheNegativeTTL
		if ttl == 0 {
			ttl = DefaultCacheTTL
		}
		if neg == 0 {
			neg = DefaultCacheTTL
		}
		a.cache = newCache(opts.CacheSize, ttl, neg, a.opts.Now)
	}
	return a, nil
}

// Close closes the passdb and userdb drivers that hold connections (those
// implementing io.Closer), each once. The Auth must not be used after.
func (a *Auth) Close() error {
	var drivers []any
	for _, p := range a.opts.Passdbs {
		drivers = append(drivers, p.Driver)
	}
	for _, u := range a.opts.Userdbs {
		drivers = append(drivers, u.Driver)
	}
	var errs []error
	seen := map[io.Closer]bool{}
	for _, d := range drivers {
		c, ok := d.(io.Closer)
		if !ok || seen[c] {
			continue
		}
		seen[c] = true
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// HasMasterPassdbs reports whether master-user logins can succeed.
func (a *Auth) HasMasterPassdbs() bool { return len(a.masters) > 0 }

// Now returns the injected clock's time; callers take it at the start of
// an attempt and pass it to FailureDelay.
func (a *Auth) Now() time.Time { return a.opts.Now() }

// FailureDelay sleeps until auth_failure_delay has passed since start.
// Every failed attempt (unknown user, wrong password, temporary failure,
// malformed SASL data) waits for it, unless the passdb set "nodelay".
func (a *Auth) FailureDelay(ctx context.Context, start time.Time) error {
	if a.opts.FailureDelay < 0 {
		return nil
	}
	d := start.Add(a.opts.FailureDelay).Sub(a.opts.Now())
	if d <= 0 {
		return nil
	}
	return a.opts.Sleep(ctx, d)
}

// normalize applies auth_username_translation, auth_master_user_separator,
// auth_username_chars and auth_username_format to req.User (and
// req.LoginUser), once.
func (a *Auth) normalize(req *Request) error {
	if req.normalized {
		return nil
	}
	if req.origUser == "" {
		req.origUser = req.User
	}
	if sep := a.opts.MasterUserSeparator; sep != "" && req.LoginUser == "" {
		if login, master, ok := strings.Cut(req.User, sep); ok {
			req.LoginUser, req.User = login, master
		}
	}
	var err error
	if req.User, err = a.fixUsername(req, req.User); err != nil {
		return err
	}
	if req.LoginUser != "" {
		if req.LoginUser, err = a.fixUsername(req, req.LoginUser); err != nil {
			return fmt.Errorf("login user: %w", err)
		}
	}
	req.normalized = true
	return nil
}

var errBadUsername = errors.New("invalid username")

func (a *Auth) fixUsername(req *Request, name string) (string, error) {
	if name == "" || len(name) > MaxUsernameLen {
		return "", fmt.Errorf("%w: empty or too long", errBadUsername)
	}
	if t := a.opts.UsernameTranslation; t != "" {
		name = translate(name, t)
	}
	if chars := a.opts.UsernameChars; chars != "" {
		for i := 0; i < len(name); i++ {
			if strings.IndexByte(chars, name[i]) < 0 {
				return "", fmt.Errorf("%w: character 0x%02x not in auth_username_chars", errBadUsername, name[i])
			}
		}
	}
	if f := a.opts.UsernameFormat; f != "" {
		tmp := *req
		tmp.User = name
		out, err := tmp.Expand(f)
		if err != nil {
			return "", fmt.Errorf("auth_username_format: %w", err)
		}
		if out == "" {
			return "", fmt.Errorf("%w: empty after auth_username_format", errBadUsername)
		}
		name = out
	}
	return name, nil
}

// translate maps characters pairwise: "#@/@" maps '#' and '/' to '@'.
func translate(s, table string) string {
	b := []byte(s)
	for i := range b {
		for j := 0; j+1 < len(table); j += 2 {
			if b[i] == table[j] {
				b[i] = table[j+1]
				break
			}
		}
	}
	return string(b)
}

// VerifyPlain authenticates req.User (and req.LoginUser for master logins)
// with a plaintext password through the passdb chain. It does not delay;
// the caller calls FailureDelay on failure.
func (a *Auth) VerifyPlain(ctx context.Context, req *Request, password string) Result {
	return a.passdbChain(ctx, req, &password)
}

// LookupCredentials runs the passdb chain without a password and returns
// the credentials of the given scheme ("CRAM-MD5", "PLAIN", ...). An empty
// scheme only checks that the user exists.
func (a *Auth) LookupCredentials(ctx context.Context, req *Request, scheme string) Result {
	res := a.passdbChain(ctx, req, nil)
	if res.Status != OK || scheme == "" {
		return res
	}
	if res.Credentials == nil && res.Fields.Has("nopassword") {
		res.Status, res.Err = SchemeNotAvailable, errors.New("nopassword user has no credentials")
		return res
	}
	creds, err := pwscheme.Credentials(string(res.Credentials), scheme, res.User, res.scheme)
	if err != nil {
		res.Status, res.Err, res.Credentials = SchemeNotAvailable, err, nil
		if !isUnknownScheme(err) {
			res.Status = InternalFail
		}
		return res
	}
	res.Credentials = creds
	return res
}

func (a *Auth) passdbChain(ctx context.Context, req *Request, password *string) Result {
	req.pool = a.pool
	if err := a.normalize(req); err != nil {
		a.log.Info("auth failed", "user", req.origUser, "rip", req.Remote.Addr(), "reason", err.Error())
		return Result{Status: UserUnknown, Err: err}
	}
	if req.LoginUser != "" && req.LoginUser != req.User {
		return a.masterChain(ctx, req, password)
	}
	return a.runPassdbs(ctx, req, a.passdbs, password).Result
}

// masterChain checks the master user's password, then switches to the
// login user; with pass=yes the login user must exist in the normal chain.
func (a *Auth) masterChain(ctx context.Context, req *Request, password *string) Result {
	if len(a.masters) == 0 {
		err := errors.New("master user login attempted without master passdbs")
		a.log.Info("auth failed", "user", req.User, "login_user", req.LoginUser, "reason", err.Error())
		return Result{Status: PasswordMismatch, Err: err}
	}
	res := a.runPassdbs(ctx, req, a.masters, password)
	if res.Status != OK {
		return res.Result
	}
	req.masterUser, req.User = req.User, req.LoginUser
	if !res.pass {
		res.User, res.MasterUser = req.User, req.masterUser
		return res.Result
	}
	req.skipPasswordCheck = true
	req.authenticated = false
	norm := a.runPassdbs(ctx, req, a.passdbs, password)
	norm.MasterUser = req.masterUser
	return norm.Result
}

// chainResult carries Result plus internal facts of the deciding passdb.
type chainResult struct {
	Result
	pass bool
}

// runPassdbs evaluates one passdb list (auth-request.c
// auth_request_handle_passdb_callback). password nil means lookup mode.
func (a *Auth) runPassdbs(ctx context.Context, req *Request, dbs []PassdbConfig, password *string) chainResult {
	var success, seenInternal bool
	fields, userdb := Fields{}, Fields{}
	var order []string
	var creds []byte
	var scheme string
	var lastErr error
	i := a.nextPassdb(req, dbs, 0, false)
	if i == len(dbs) {
		return chainResult{Result: Result{Status: InternalFail, User: req.User, Err: errors.New("all password databases were skipped")}}
	}
	for {
		db := &dbs[i]
		res := a.callPassdb(ctx, req, db, password)
		st := res.Status
		if res.Err != nil {
			lastErr = res.Err
		}
		a.logPassdb(req, db, res)
		if db.Deny && st != UserUnknown {
			if st != InternalFail {
				a.log.Info("user found from deny passdb", "user", req.User, "passdb", db.Name)
				st = UserDisabled
			}
			return chainResult{Result: Result{Status: st, User: req.User, Err: lastErr}}
		}
		if st == OK {
			if err := checkAllowNets(res.Fields["allow_nets"], req.Remote); err != nil {
				a.log.Info("allow_nets check failed", "user", req.User, "rip", req.Remote.Addr(), "reason", err.Error())
				st = PasswordMismatch
			}
		}
		switch st {
		case UserDisabled:
			return chainResult{Result: Result{Status: st, User: req.User, Fields: res.Fields, Err: lastErr}}
		case PassExpired:
			f := res.Fields.Clone()
			f["reason"] = "Password expired"
			return chainResult{Result: Result{Status: st, User: req.User, Fields: f, Err: lastErr}}
		}
		r := rule(st, db.ResultSuccess, db.ResultFailure, db.ResultInternalFail)
		cont := r.apply(&success)
		if st == OK {
			if cont {
				req.skipPasswordCheck = true
			}
			order = append(order, res.Fields.Keys(res.Order)...)
			p, u := splitUserdb(res.Fields)
			delete(p, "nopassword")
			for k, v := range p {
				fields[k] = v
			}
			for k, v := range u {
				userdb[k] = v
			}
			if res.Password != "" || password == nil {
				creds, scheme = []byte(res.Password), res.Scheme
			}
			if u := p["user"]; u != "" {
				req.User = u
			}
			delete(fields, "user")
		}
		next := a.nextPassdb(req, dbs, i+1, success)
		if cont && next < len(dbs) {
			if st == InternalFail {
				seenInternal = true
			}
			i = next
			continue
		}
		switch {
		case success:
			st = OK
		case seenInternal:
			st = InternalFail
		}
		out := chainResult{Result: Result{Status: st, User: req.User, Err: lastErr}, pass: db.Pass}
		if st == OK {
			req.authenticated = true
			req.prefetch = userdb
			req.prefetchOrder = nil
			for _, k := range order {
				if u, ok := strings.CutPrefix(k, "userdb_"); ok {
					req.prefetchOrder = append(req.prefetchOrder, u)
				}
			}
			out.Fields, out.Userdb, out.Err = fields, userdb, nil
			out.Order = dedup(order)
			if password == nil {
				out.Credentials, out.scheme = creds, scheme
			}
		}
		return out
	}
}

func (a *Auth) nextPassdb(req *Request, dbs []PassdbConfig, from int, success bool) int {
	for from < len(dbs) && !dbs[from].wants(req, success) {
		from++
	}
	return from
}

// callPassdb runs one driver (from the auth cache when it may) and
// applies default_fields/override_fields.
func (a *Auth) callPassdb(ctx context.Context, req *Request, db *PassdbConfig, password *string) PassResult {
	key, cached := a.cacheKey(req, 'P', db.id, db.Driver)
	res, hit := PassResult{}, false
	if cached {
		res, hit = a.passdbFromCache(ctx, req, key, password)
	}
	if !hit {
		req.stored, req.storedScheme = "", ""
		a.blocking(ctx, db.Driver, func(ctx context.Context) {
			if password == nil {
				res = db.Driver.LookupCredentials(ctx, req)
			} else {
				res = db.Driver.VerifyPlain(ctx, req, *password)
			}
		}, func(err error) { res = PassResult{Status: InternalFail, Err: err} })
		if cached {
			a.passdbToCache(req, key, password, res)
		}
	}
	if res.Status != OK {
		return res
	}
	f, err := a.templated(req, db.DefaultFields)
	if err != nil {
		return PassResult{Status: InternalFail, Err: fmt.Errorf("passdb %s default_fields: %w", db.Name, err)}
	}
	order := f.Keys(nil)
	for k, v := range res.Fields {
		f[k] = v
	}
	order = append(order, res.Fields.Keys(res.Order)...)
	o, err := a.templated(req, db.OverrideFields)
	if err != nil {
		return PassResult{Status: InternalFail, Err: fmt.Errorf("passdb %s override_fields: %w", db.Name, err)}
	}
	for k, v := range o {
		f[k] = v
	}
	res.Fields, res.Order = f, append(order, o.Keys(nil)...)
	return res
}

// Blocking is implemented by drivers whose calls hold a thread without
// waiting on the network (system passwd/shadow, checkpassword): when it
// returns true their lookups run in the auth worker pool.
type Blocking interface {
	Blocking() bool
}

// blocking runs fn directly, or in the worker pool for Blocking drivers;
// fail reports a context that ended while queued.
func (a *Auth) blocking(ctx context.Context, driver any, fn func(context.Context), fail func(error)) {
	if b, ok := driver.(Blocking); !ok || !b.Blocking() {
		fn(ctx)
		return
	}
	if err := a.pool.run(ctx, func() { fn(ctx) }); err != nil {
		fail(fmt.Errorf("waiting for an auth worker: %w", err))
	}
}

func dedup(keys []string) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func (a *Auth) templated(req *Request, tmpl Fields) (Fields, error) {
	out := Fields{}
	for k, v := range tmpl {
		e, err := req.Expand(v)
		if err != nil {
			return nil, err
		}
		out[k] = e
	}
	return out, nil
}

func (a *Auth) logPassdb(req *Request, db *PassdbConfig, res PassResult) {
	attrs := []any{"passdb", db.Name, "user", req.User, "service", req.Service, "rip", req.Remote.Addr(), "session", req.SessionID}
	switch res.Status {
	case InternalFail, SchemeNotAvailable:
		a.log.Error("passdb lookup failed", append(attrs, "status", res.Status.String(), "error", errString(res.Err))...)
	case OK:
		a.log.Debug("passdb lookup", append(attrs, "status", res.Status.String())...)
	default:
		a.log.Info("passdb lookup", append(attrs, "status", res.Status.String())...)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
