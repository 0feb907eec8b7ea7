package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Options describe one workload run.
type Options struct {
	Workload string
	Target   Target
	Users    []string
	Password string
	Clients  int
	// Duration bounds the run unless Ops is set; Ops counts the headline
	// operations (sessions, iterations, deliveries) across all clients.
	Duration time.Duration
	Ops      int
	Seed     uint64
	// Messages are CRLF messages to APPEND and deliver; nil uses
	// synthetic 4 KB messages.
	Messages [][]byte
	// Sessions is the idle workload's session count (default Clients).
	Sessions int
	// DeliverLMTP, when set, is where the idle workload delivers (one
	// LMTP transaction to every user); otherwise it APPENDs per user.
	DeliverLMTP Target
	// OnIdle, when set, is called by the idle workload once every session
	// is in IDLE and before the delivery (the driver samples memory).
	OnIdle func()
	// SearchSubject is the bigbox SEARCH HEADER SUBJECT needle and the
	// sortthread ESEARCH's SUBJECT string.
	SearchSubject string
	// Timeout bounds each protocol exchange (default 60s).
	Timeout time.Duration
}

// Workloads lists the workload names in report order.
func Workloads() []string {
	return []string{"cycle", "persistent", "pop3", "lmtp", "idle", "bigbox", "sortthread"}
}

// Protocol is the protocol a workload speaks.
func Protocol(workload string) string {
	switch workload {
	case "pop3":
		return "pop3"
	case "lmtp":
		return "lmtp"
	}
	return "imap"
}

// Run executes one workload. An error means the run could not start;
// protocol errors during the run are in the Result.
func Run(ctx context.Context, o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	cpu0 := cpuTime()
	var res *Result
	var err error
	switch o.Workload {
	case "cycle":
		res, err = runClients(ctx, o, "session", cycleWorker)
	case "persistent":
		res, err = runClients(ctx, o, "command", persistentWorker)
	case "pop3":
		res, err = runClients(ctx, o, "session", pop3Worker)
	case "lmtp":
		res, err = runClients(ctx, o, "delivery", lmtpWorker)
	case "idle":
		res, err = runIdle(ctx, o)
	case "bigbox", "sortthread":
		res, err = runBigbox(ctx, o)
	default:
		return nil, fmt.Errorf("unknown workload %q (have %v)", o.Workload, Workloads())
	}
	if res != nil {
		res.ClientCPU = cpuTime() - cpu0
	}
	return res, err
}

func (o *Options) defaults() error {
	if len(o.Users) == 0 {
		return errors.New("no users")
	}
	if o.Target.Addr == "" {
		return errors.New("no target address")
	}
	if o.Clients <= 0 {
		o.Clients = 1
	}
	if o.Duration <= 0 && o.Ops <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Sessions <= 0 {
		o.Sessions = o.Clients
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if len(o.Messages) == 0 {
		o.Messages = SyntheticMessages(o.Seed, 16, 4096)
	}
	if o.SearchSubject == "" {
		o.SearchSubject = "needle"
	}
	return nil
}

// budget hands out headline operations until the duration or count is
// used up.
type budget struct {
	deadline time.Time
	left     atomic.Int64
	counted  bool
}

func newBudget(o Options) *budget {
	b := &budget{}
	if o.Ops > 0 {
		b.counted = true
		b.left.Store(int64(o.Ops))
	} else {
		b.deadline = time.Now().Add(o.Duration)
	}
	return b
}

// take reports whether another operation may start.
func (b *budget) take(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	if b.counted {
		return b.left.Add(-1) >= 0
	}
	return time.Now().Before(b.deadline)
}

// worker runs one client until b is used up.
type worker func(ctx context.Context, w *workerEnv) error

// workerEnv is one client's view of the run.
type workerEnv struct {
	o    Options
	id   int
	user string
	rng  *rand.Rand
	rec  *recorder
	b    *budget
	k    int // sessions started, for nextUser
}

// nextUser rotates through the users congruent to the worker's id
// modulo the client count, so no two workers share a user (when there
// are at least as many users as clients) and every user gets load.
func (w *workerEnv) nextUser() string {
	n, c := len(w.o.Users), w.o.Clients
	if c >= n {
		return w.o.Users[w.id%n]
	}
	per := (n - w.id + c - 1) / c
	j := w.id + (w.k%per)*c
	w.k++
	return w.o.Users[j]
}

func (w *workerEnv) message() []byte { return w.o.Messages[w.rng.IntN(len(w.o.Messages))] }

// runClients starts o.Clients workers, each with its own user (round
// robin), recorder and seeded random source.
func runClients(ctx context.Context, o Options, headline string, f worker) (*Result, error) {
	var col collector
	b := newBudget(o)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range o.Clients {
		w := &workerEnv{o: o, id: i, user: o.Users[i%len(o.Users)], rng: rand.New(rand.NewPCG(o.Seed, uint64(i))), rec: newRecorder(), b: b}
		col.add(w.rec)
		wg.Go(func() {
			if err := f(ctx, w); err != nil {
				w.rec.fail("worker", err)
			}
		})
	}
	wg.Wait()
	return col.result(o.Workload, o.Clients, time.Since(t0), headline), nil
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// median returns the median of xs (0 for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
