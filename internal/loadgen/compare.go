package loadgen

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"roost/internal/pwscheme"
)

// Kinds are the two servers of a comparison, in run order (A, B).
var kinds = [2]string{"roost", "dovecot"}

// CompareOptions configure a side-by-side run.
type CompareOptions struct {
	RoostBin   string
	DovecotBin string // empty: roost only (smoke runs, profiling)
	Dir        string // work directory (created; servers' data lives here)
	CorpusDir  string // ../shared/corpus; empty uses synthetic messages
	Duration   time.Duration
	Reps       int
	Seed       uint64
	// Cases selects cases by name or workload; empty runs all.
	Cases        []string
	CycleClients int
	IdleSessions int
	BigboxSize   int
	// SortThreadSize is the sortthread mailbox's message count.
	SortThreadSize int
	Pop3Prefill    int
	// ProfileDir, when set, makes roost write CPU and allocation profiles
	// per case (roost-CASE.cpu.pprof, roost-CASE.alloc.pprof).
	ProfileDir string
	// NoCeilings skips the machine probes (smoke tests).
	NoCeilings bool
	Log        io.Writer `json:"-"`
}

// benchCase is one table of the report: a workload with its parameters.
type benchCase struct {
	Name     string
	Workload string
	TLS      bool
	Users    func(*Users) []string `json:"-"`
	Clients  int
	Sessions int
	Prefill  int // messages per user INBOX before the run
	Describe string
	// Config is appended to the configuration both servers read.
	Config string `json:",omitempty"`
}

func (o *CompareOptions) cases() []benchCase {
	cheap := func(u *Users) []string { return u.Cheap }
	crypt := func(u *Users) []string { return u.Crypt }
	big := func(u *Users) []string { return []string{u.Big} }
	cc := o.CycleClients
	all := []benchCase{
		{"cycle", "cycle", false, cheap, cc, 0, 20, fmt.Sprintf("%d clients, plain TCP, PLAIN passwords", cc), ""},
		{"cycle-tls", "cycle", true, cheap, cc, 0, 20, fmt.Sprintf("%d clients, implicit TLS (imaps, ECDSA P-256, no session resumption), PLAIN passwords", cc), ""},
		{"cycle-sha512", "cycle", false, crypt, cc, 0, 20, fmt.Sprintf("%d clients, plain TCP, SHA512-CRYPT passwords (5000 rounds)", cc), ""},
		{Name: "cycle-sha512-cached", Workload: "cycle", Users: crypt, Clients: cc, Prefill: 20,
			Describe: fmt.Sprintf("%d clients, plain TCP, SHA512-CRYPT passwords (5000 rounds), auth_cache_size = 10M (the cache verifies repeated logins without the database)", cc),
			Config:   "auth_cache_size = 10M\nauth_cache_ttl = 1 hour\n"},
		{"persistent", "persistent", false, cheap, 50, 0, 20, "50 long-lived sessions, plain TCP", ""},
		{"persistent-tls", "persistent", true, cheap, 50, 0, 20, "50 long-lived sessions, implicit TLS", ""},
		{"pop3", "pop3", false, cheap, cc, 0, o.Pop3Prefill, fmt.Sprintf("%d clients, plain TCP, USER/PASS, STAT, RETR, DELE, QUIT", cc), ""},
		{"lmtp-1", "lmtp", false, cheap, 1, 0, 0, "1 connection, corpus messages of 3-5 KB to 100 users, fsync on (mail_fsync = optimized)", ""},
		{"lmtp-4", "lmtp", false, cheap, 4, 0, 0, "4 connections, corpus messages of 3-5 KB to 100 users, fsync on", ""},
		{"idle", "idle", false, cheap, 1, o.IdleSessions, 20, fmt.Sprintf("%d sessions in IDLE over 100 users; one LMTP transaction delivers a message to every user (APPEND per user when LMTP is not served), time until every session saw its EXISTS", o.IdleSessions), ""},
		{"bigbox", "bigbox", false, big, 1, 0, o.BigboxSize, fmt.Sprintf("one session on a %d-message INBOX (Maildir files written directly, each server indexes them itself)", o.BigboxSize), ""},
		{"sortthread", "sortthread", false, big, 1, 0, o.SortThreadSize, fmt.Sprintf("one session on a %d-message INBOX made from corpus messages with threads (SortThreadMessages, seed %d; the same Maildir files for both servers), after a first session that built each server's index and cache", o.SortThreadSize, o.Seed), ""},
	}
	if len(o.Cases) == 0 {
		return all
	}
	var out []benchCase
	for _, c := range all {
		for _, want := range o.Cases {
			if want == c.Name || want == c.Workload {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func (o *CompareOptions) defaults() {
	if o.Duration <= 0 {
		o.Duration = 5 * time.Second
	}
	if o.Reps <= 0 {
		o.Reps = 3
	}
	if o.CycleClients <= 0 {
		o.CycleClients = 4 * runtime.NumCPU()
	}
	if o.IdleSessions <= 0 {
		o.IdleSessions = 1000
	}
	if o.BigboxSize <= 0 {
		o.BigboxSize = 100000
	}
	if o.SortThreadSize <= 0 {
		o.SortThreadSize = 50000
	}
	if o.Pop3Prefill <= 0 {
		o.Pop3Prefill = 300
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Measured is one measured run of one server.
type Measured struct {
	Result *Result
	Server ProcUsage // peak memory, CPU used during the run
	// Idle workload: memory before the sessions and with all in IDLE.
	IdleBase, IdleFull ProcUsage
}

// CaseResult holds every run of one case per server.
type CaseResult struct {
	Case     benchCase
	Runs     map[string][]Measured // by kind
	Skipped  map[string]string
	FirstOps map[string]*Result // bigbox, sortthread: the first (indexing) session
}

// Comparison is the outcome of Compare.
type Comparison struct {
	Opts     CompareOptions
	Start    time.Time
	Took     time.Duration
	Ceilings Ceilings
	Cases    []*CaseResult
}

// Compare runs every selected case against both servers, alternating.
func Compare(ctx context.Context, o CompareOptions) (*Comparison, error) {
	o.defaults()
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create work dir: %w", err)
	}
	os.Chmod(o.Dir, 0o755)
	cmp := &Comparison{Opts: o, Start: time.Now()}
	if !o.NoCeilings {
		fmt.Fprintf(o.Log, "measuring machine ceilings\n")
		c, err := measureCeilings(o.Dir, time.Second)
		if err != nil {
			return nil, err
		}
		cmp.Ceilings = c
	}
	users, err := makeUsers()
	if err != nil {
		return nil, err
	}
	msgs, err := o.messages()
	if err != nil {
		return nil, err
	}
	cert, key, err := selfSigned()
	if err != nil {
		return nil, err
	}
	for _, bc := range o.cases() {
		cr, err := o.runCase(ctx, bc, users, msgs, cert, key)
		if err != nil {
			return cmp, fmt.Errorf("case %s: %w", bc.Name, err)
		}
		cmp.Cases = append(cmp.Cases, cr)
	}
	cmp.Took = time.Since(cmp.Start)
	return cmp, nil
}

// sortThreadMessages builds the sortthread mailbox from the corpus (any
// size up to 20 KB), or from synthetic messages without one.
func (o *CompareOptions) sortThreadMessages(n int) ([][]byte, error) {
	corpus := SyntheticMessages(o.Seed, 64, 2048)
	if o.CorpusDir != "" {
		var err error
		if corpus, err = LoadCorpus(o.CorpusDir, 0, 20000, 10000); err != nil {
			return nil, err
		}
	}
	return SortThreadMessages(corpus, o.Seed, n), nil
}

func (o *CompareOptions) messages() ([][]byte, error) {
	if o.CorpusDir == "" {
		return SyntheticMessages(o.Seed, 64, 4096), nil
	}
	return LoadCorpus(o.CorpusDir, 3000, 5000, 200)
}

// makeUsers builds 100 PLAIN users, 20 SHA512-CRYPT users and the bigbox
// owner, all with Password.
func makeUsers() (*Users, error) {
	u := &Users{Big: "bigbox", Hashes: map[string]string{}}
	for i := range 100 {
		u.Cheap = append(u.Cheap, fmt.Sprintf("user%03d", i))
	}
	for i := range 20 {
		u.Crypt = append(u.Crypt, fmt.Sprintf("crypt%03d", i))
	}
	for _, n := range append(append([]string{u.Big}, u.Cheap...), u.Crypt...) {
		u.Hashes[n] = "{PLAIN}" + Password
	}
	for _, n := range u.Crypt {
		h, err := pwscheme.Generate("SHA512-CRYPT", Password, n, 0)
		if err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
		u.Hashes[n] = h
	}
	return u, nil
}

// runCase sets up both servers for bc, runs it o.Reps times alternately
// and stops the servers.
func (o *CompareOptions) runCase(ctx context.Context, bc benchCase, users *Users, msgs [][]byte, cert, key []byte) (*CaseResult, error) {
	cr := &CaseResult{Case: bc, Runs: map[string][]Measured{}, Skipped: map[string]string{}, FirstOps: map[string]*Result{}}
	servers := map[string]*Server{}
	defer func() {
		for _, s := range servers {
			s.Stop()
		}
	}()
	for _, kind := range kinds {
		bin := o.RoostBin
		if kind == "dovecot" {
			bin = o.DovecotBin
		}
		if bin == "" {
			cr.Skipped[kind] = "not run (no binary given)"
			continue
		}
		s, err := o.setupServer(ctx, bc, kind, bin, users, msgs, cert, key)
		if err != nil {
			return nil, err
		}
		servers[kind] = s
		proto := Protocol(bc.Workload)
		if !Serves(ctx, s.Env, proto) {
			cr.Skipped[kind] = fmt.Sprintf("%s does not serve %s yet (no %s greeting on %s)", kind, proto, proto, s.Env.Addr(proto))
			fmt.Fprintf(o.Log, "%s: skipped for %s: %s\n", bc.Name, kind, cr.Skipped[kind])
			continue
		}
		if err := o.warm(ctx, bc, s, users, msgs, cr); err != nil {
			cr.Skipped[kind] = fmt.Sprintf("warm-up failed: %v", err)
			fmt.Fprintf(o.Log, "%s: %s: %s\n", bc.Name, kind, cr.Skipped[kind])
		}
	}
	for rep := range o.Reps {
		for _, kind := range kinds {
			s := servers[kind]
			if s == nil || cr.Skipped[kind] != "" {
				continue
			}
			if err := o.refill(bc, s, users, msgs, rep); err != nil {
				return nil, err
			}
			run, err := o.measure(ctx, bc, s, users, msgs, rep)
			if err != nil {
				cr.Skipped[kind] = fmt.Sprintf("run %d failed: %v", rep+1, err)
				fmt.Fprintf(o.Log, "%s %s: %s\n", bc.Name, kind, cr.Skipped[kind])
				continue
			}
			fmt.Fprintf(o.Log, "%s %s rep %d: %s\n", bc.Name, kind, rep+1, run.summary())
			cr.Runs[kind] = append(cr.Runs[kind], run)
		}
	}
	return cr, nil
}

func (o *CompareOptions) setupServer(ctx context.Context, bc benchCase, kind, bin string, users *Users, msgs [][]byte, cert, key []byte) (*Server, error) {
	dir := filepath.Join(o.Dir, bc.Name, kind)
	os.RemoveAll(dir)
	env, err := newEnv(dir, kind, users, cert, key, bc.Config)
	if err != nil {
		return nil, err
	}
	if bc.Prefill > 0 {
		fill := msgs
		switch bc.Workload {
		case "bigbox":
			fill = BigboxMessages(o.Seed, bc.Prefill, "needle")
		case "sortthread":
			var err error
			if fill, err = o.sortThreadMessages(bc.Prefill); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(o.Log, "%s: writing %d messages per user for %s\n", bc.Name, bc.Prefill, kind)
		for _, u := range bc.Users(users) {
			f := &MaildirFiller{Root: env.Maildir(u), UID: env.UID, GID: env.GID}
			os.MkdirAll(env.Home(u), 0o700)
			os.Chown(env.Home(u), env.UID, env.GID)
			if err := f.Fill(fill, bc.Prefill, true); err != nil {
				return nil, err
			}
		}
	}
	var extra []string
	if kind == "roost" && o.ProfileDir != "" {
		os.MkdirAll(o.ProfileDir, 0o755)
		abs, _ := filepath.Abs(o.ProfileDir)
		extra = append(extra,
			"ROOST_CPUPROFILE="+filepath.Join(abs, "roost-"+bc.Name+".cpu.pprof"),
			"ROOST_MEMPROFILE="+filepath.Join(abs, "roost-"+bc.Name+".alloc.pprof"))
	}
	for attempt := 0; ; attempt++ {
		s, err := startServer(ctx, env, bin, extra)
		if err == nil || attempt == 2 || !strings.Contains(strings.ToLower(err.Error()), "address already in use") {
			return s, err
		}
		// another process took a port between the choice and the bind
		if err := env.repickPorts(bc.Config); err != nil {
			return nil, err
		}
	}
}

// refill tops the INBOXes a pop3 run drains (every session deletes a
// message) back up to the prefill size before each run after the first,
// so that every run of either server finds mailboxes of the same size;
// new names continue after the earlier fills.
func (o *CompareOptions) refill(bc benchCase, s *Server, users *Users, msgs [][]byte, rep int) error {
	if bc.Workload != "pop3" || rep == 0 || bc.Prefill <= 0 {
		return nil
	}
	for _, u := range bc.Users(users) {
		root := s.Env.Maildir(u)
		have := 0
		for _, d := range []string{"cur", "new"} {
			ents, err := os.ReadDir(filepath.Join(root, d))
			if err != nil {
				return fmt.Errorf("refill %s: %w", u, err)
			}
			have += len(ents)
		}
		if have >= bc.Prefill {
			continue
		}
		f := &MaildirFiller{Root: root, UID: s.Env.UID, GID: s.Env.GID, seq: rep * bc.Prefill}
		if err := f.Fill(msgs, bc.Prefill-have, true); err != nil {
			return err
		}
	}
	return nil
}

// target returns the address a case's clients use on s.
func (bc benchCase) target(s *Server) Target {
	name := Protocol(bc.Workload)
	if bc.TLS {
		name += "s"
	}
	return Target{Addr: s.Env.Addr(name), TLS: bc.TLS}
}

func (o *CompareOptions) runOptions(bc benchCase, s *Server, users *Users, msgs [][]byte, rep int) Options {
	return Options{
		Workload: bc.Workload, Target: bc.target(s), Users: bc.Users(users), Password: Password,
		Clients: bc.Clients, Sessions: bc.Sessions, Duration: o.Duration, Seed: o.Seed + uint64(rep),
		Messages: msgs, SearchSubject: "needle",
	}
}

// warm touches every user once (the servers build their indexes) and,
// for bigbox and sortthread, records the first session separately.
func (o *CompareOptions) warm(ctx context.Context, bc benchCase, s *Server, users *Users, msgs [][]byte, cr *CaseResult) error {
	ro := o.runOptions(bc, s, users, msgs, 0)
	ro.Duration = 0
	switch bc.Workload {
	case "bigbox", "sortthread":
		ro.Ops = 1
		res, err := Run(ctx, ro)
		if err == nil && res.Failed() {
			err = fmt.Errorf("first %s session: %v", bc.Workload, res.ErrorSamples)
		}
		cr.FirstOps[s.Env.Kind] = res
		return err
	case "lmtp":
		ro.Ops, ro.Clients = len(ro.Users), 1
	case "pop3":
		return nil // STAT on a fresh Maildir is part of the workload
	default:
		ro.Workload, ro.Ops, ro.Clients = "cycle", len(ro.Users), min(len(ro.Users), 8)
		ro.Target = Target{Addr: s.Env.Addr("imap")}
	}
	res, err := Run(ctx, ro)
	if err == nil && res.Failed() {
		err = fmt.Errorf("warm-up run failed: %d errors: %v", res.Errors, res.ErrorSamples)
	}
	return err
}

// measure runs bc once against s, sampling the server's process tree.
func (o *CompareOptions) measure(ctx context.Context, bc benchCase, s *Server, users *Users, msgs [][]byte, rep int) (Measured, error) {
	ro := o.runOptions(bc, s, users, msgs, rep)
	var run Measured
	if bc.Workload == "idle" {
		if Serves(ctx, s.Env, "lmtp") {
			ro.DeliverLMTP = Target{Addr: s.Env.Addr("lmtp")}
		}
		run.IdleBase = usage(s.PID())
		ro.OnIdle = func() { run.IdleFull = usage(s.PID()) }
	}
	if bc.Workload == "bigbox" || bc.Workload == "sortthread" {
		ro.Ops = 1
	}
	// The previous run's dirty pages (the other server's mail and
	// indexes) would be written back during this one and slow its fsyncs.
	syscall.Sync()
	sm := startSampler(s.PID())
	res, err := Run(ctx, ro)
	run.Server = sm.finish()
	if err != nil {
		return run, err
	}
	run.Result = res
	return run, nil
}

func (r Measured) summary() string {
	res := r.Result
	h := res.Op(res.Headline)
	s := fmt.Sprintf("%s %.1f/s p50 %v p99 %v, server CPU %v, peak PSS %.1f MiB, errors %d",
		res.Headline, h.Rate, h.P50, h.P99, r.Server.CPU, float64(r.Server.PSS)/(1<<20), res.Errors)
	if all, ok := res.Values["notify_all_s"]; ok {
		s += fmt.Sprintf(", all notified %.3fs, delivery 250s %.3fs–%.3fs, notified after own 250 p50 %.3fs max %.3fs", all,
			res.Values["deliver_first_s"], res.Values["deliver_all_s"], res.Values["lag_p50_s"], res.Values["lag_max_s"])
	}
	if res.Errors > 0 {
		s += fmt.Sprintf(" %q", res.ErrorSamples)
	}
	return s
}
