package loadgen

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxErrorSamples bounds how many error messages a Result keeps; the count
// is always exact.
const maxErrorSamples = 20

// OpStats summarises one operation kind of a run.
type OpStats struct {
	Name  string
	Count int
	Rate  float64 // per second of the run's wall time
	P50   time.Duration
	P99   time.Duration
	Max   time.Duration
}

// Result is what one workload run measured.
type Result struct {
	Workload string
	Clients  int
	Elapsed  time.Duration
	Ops      []OpStats
	// Headline is the op whose rate is the workload's figure of merit
	// ("session", "command", "delivery", "notify", …).
	Headline string
	// Values are workload-specific measurements (bigbox command times,
	// idle notification spread) in seconds or counts, by name.
	Values map[string]float64
	// Errors counts every protocol or I/O error; ErrorSamples keeps the
	// first few.
	Errors       int
	ErrorSamples []string
	// ClientCPU is the generator's own user+system CPU time during the run.
	ClientCPU time.Duration
}

// Op returns the stats of op name (zero value if absent).
func (r *Result) Op(name string) OpStats {
	for _, o := range r.Ops {
		if o.Name == name {
			return o
		}
	}
	return OpStats{Name: name}
}

// Failed reports whether the run saw any error.
func (r *Result) Failed() bool { return r.Errors > 0 }

// recorder collects latencies per op for one worker; workers never share
// a recorder, so it needs no lock.
type recorder struct {
	lat  map[string][]time.Duration
	errs []string
	nerr int
}

func newRecorder() *recorder { return &recorder{lat: map[string][]time.Duration{}} }

// observe records that op took d.
func (r *recorder) observe(op string, d time.Duration) { r.lat[op] = append(r.lat[op], d) }

// time runs f, recording its latency under op on success and an error
// otherwise.
func (r *recorder) time(op string, f func() error) error {
	t0 := time.Now()
	err := f()
	if err != nil {
		r.fail(op, err)
		return err
	}
	r.observe(op, time.Since(t0))
	return nil
}

func (r *recorder) fail(op string, err error) {
	r.nerr++
	if len(r.errs) < maxErrorSamples {
		r.errs = append(r.errs, fmt.Sprintf("%s: %v", op, err))
	}
}

// collector merges worker recorders.
type collector struct {
	mu   sync.Mutex // guards recs
	recs []*recorder
}

func (c *collector) add(r *recorder) {
	c.mu.Lock()
	c.recs = append(c.recs, r)
	c.mu.Unlock()
}

// result merges everything recorded into a Result for a run of elapsed.
func (c *collector) result(workload string, clients int, elapsed time.Duration, headline string) *Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	res := &Result{Workload: workload, Clients: clients, Elapsed: elapsed, Headline: headline, Values: map[string]float64{}}
	all := map[string][]time.Duration{}
	var order []string
	for _, r := range c.recs {
		for op, ds := range r.lat {
			if _, ok := all[op]; !ok {
				order = append(order, op)
			}
			all[op] = append(all[op], ds...)
		}
		res.Errors += r.nerr
		for _, e := range r.errs {
			if len(res.ErrorSamples) < maxErrorSamples {
				res.ErrorSamples = append(res.ErrorSamples, e)
			}
		}
	}
	slices.Sort(order)
	for _, op := range order {
		res.Ops = append(res.Ops, summarise(op, all[op], elapsed))
	}
	return res
}

func summarise(op string, ds []time.Duration, elapsed time.Duration) OpStats {
	slices.Sort(ds)
	s := OpStats{Name: op, Count: len(ds)}
	if len(ds) == 0 {
		return s
	}
	if elapsed > 0 {
		s.Rate = float64(len(ds)) / elapsed.Seconds()
	}
	s.P50 = percentile(ds, 0.50)
	s.P99 = percentile(ds, 0.99)
	s.Max = ds[len(ds)-1]
	return s
}

// percentile returns the q-quantile of sorted ds (nearest rank).
func percentile(ds []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(ds))+0.5) - 1
	i = max(0, min(i, len(ds)-1))
	return ds[i]
}
