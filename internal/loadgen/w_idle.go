package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// dialConcurrency bounds how many idle sessions log in at once.
const dialConcurrency = 32

// idleSession is one session waiting in IDLE.
type idleSession struct {
	ic     *imapConn
	user   string
	before int // EXISTS when IDLE started
}

// runIdle opens o.Sessions sessions in IDLE on INBOX, calls o.OnIdle,
// appends one message to every user's INBOX through a separate
// connection per user, and measures how long each session takes to see
// the new EXISTS. Headline "notify": per session, from the first APPEND
// sent to its EXISTS; Values["notify_all_s"] is when the last one saw it.
func runIdle(ctx context.Context, o Options) (*Result, error) {
	rec := newRecorder()
	var col collector
	col.add(rec)
	t0 := time.Now()
	sessions, err := openIdle(ctx, o, rec)
	defer func() {
		for _, s := range sessions {
			s.ic.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	if o.OnIdle != nil {
		o.OnIdle()
	}
	users := distinctUsers(sessions)
	if o.DeliverLMTP.Addr != "" {
		var dv deliverTimes
		last, seen := notifyAll(o, sessions, func() { dv = lmtpDeliverAll(ctx, o, users, rec) }, rec)
		dv.observeLag(rec, sessions, seen)
		res := idleResult(&col, o, sessions, t0, last)
		dv.record(res)
		return res, nil
	}
	deliverers, err := openDeliverers(ctx, o, users)
	defer func() {
		for _, d := range deliverers {
			d.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	last, _ := notifyAll(o, sessions, func() { appendAll(o, deliverers, users, rec) }, rec)
	return idleResult(&col, o, sessions, t0, last), nil
}

func idleResult(col *collector, o Options, sessions []*idleSession, t0 time.Time, last time.Duration) *Result {
	res := col.result(o.Workload, len(sessions), time.Since(t0), "notify")
	res.Values["sessions"] = float64(len(sessions))
	res.Values["notify_all_s"] = last.Seconds()
	return res
}

// deliverTimes is when the LMTP delivery's replies came, from its start,
// so that the notification times can be read against the delivery's own.
type deliverTimes struct {
	data  time.Duration        // the message's final dot sent
	first time.Duration        // the first recipient's reply after the dot
	all   time.Duration        // the last recipient's reply
	at    map[string]time.Time // when each user's reply came
}

// observeLag records, per session, how long after its user's reply it
// saw the new message (op "notify_after_250"): the server's wake-up path
// and the load generator's reading, without the delivery's own time. It
// is negative for a session whose copy was announced before the reply of
// an earlier recipient, which its own reply waits for (RCPT order).
func (dv deliverTimes) observeLag(rec *recorder, sessions []*idleSession, seen []time.Time) {
	for i, s := range sessions {
		if r, ok := dv.at[s.user]; ok && !seen[i].IsZero() {
			rec.observe("notify_after_250", seen[i].Sub(r))
		}
	}
}

// record adds the delivery's times to res: Values["deliver_data_s"],
// ["deliver_first_s"] and ["deliver_all_s"], and op "deliver_all".
func (dv deliverTimes) record(res *Result) {
	if dv.all == 0 {
		return
	}
	res.Values["deliver_data_s"] = dv.data.Seconds()
	res.Values["deliver_first_s"] = dv.first.Seconds()
	res.Values["deliver_all_s"] = dv.all.Seconds()
	if lag := res.Op("notify_after_250"); lag.Count > 0 {
		res.Values["lag_p50_s"] = lag.P50.Seconds()
		res.Values["lag_max_s"] = lag.Max.Seconds()
	}
}

// lmtpDeliverAll delivers one message to every user in one LMTP
// transaction and reports when the replies came.
func lmtpDeliverAll(ctx context.Context, o Options, users []string, rec *recorder) (dv deliverTimes) {
	t0 := time.Now()
	tc, err := dialText(ctx, o.DeliverLMTP)
	if err != nil {
		rec.fail("deliver", err)
		return
	}
	defer tc.Close()
	tc.c.SetDeadline(time.Now().Add(o.Timeout))
	if err := tc.smtpExpect(200); err != nil {
		rec.fail("deliver", err)
		return
	}
	tc.w.WriteString("LHLO loadgen.example\r\nMAIL FROM:<loadgen@example.org>\r\n")
	for _, u := range users {
		tc.w.WriteString("RCPT TO:<" + u + ">\r\n")
	}
	tc.w.WriteString("DATA\r\n")
	if err := tc.w.Flush(); err != nil {
		rec.fail("deliver", err)
		return
	}
	for i := range len(users) + 2 {
		if err := tc.smtpExpect(200); err != nil {
			rec.fail(fmt.Sprintf("deliver reply %d", i), err)
			return
		}
	}
	if err := tc.smtpExpect(300); err != nil {
		rec.fail("deliver DATA", err)
		return
	}
	tc.writeDotStuffed(o.Messages[0])
	if err := tc.w.Flush(); err != nil {
		rec.fail("deliver", err)
		return
	}
	dv.data = time.Since(t0)
	dv.at = make(map[string]time.Time, len(users))
	for i, u := range users {
		if err := tc.smtpExpect(200); err != nil {
			rec.fail("deliver to "+u, err)
			return deliverTimes{}
		}
		dv.at[u] = time.Now()
		if i == 0 {
			dv.first = time.Since(t0)
		}
	}
	dv.all = time.Since(t0)
	rec.observe("deliver_all", dv.all)
	return dv
}

// openIdle logs in o.Sessions sessions, dialConcurrency at a time.
func openIdle(ctx context.Context, o Options, rec *recorder) ([]*idleSession, error) {
	out := make([]*idleSession, o.Sessions)
	errs := make([]error, o.Sessions)
	setup := make([]time.Duration, o.Sessions)
	sem := make(chan struct{}, dialConcurrency)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			t0 := time.Now()
			out[i], errs[i] = openIdleOne(ctx, o, o.Users[i%len(o.Users)])
			setup[i] = time.Since(t0)
		})
	}
	wg.Wait()
	var ok []*idleSession
	for i, s := range out {
		if errs[i] != nil {
			rec.fail("idle_open", errs[i])
			continue
		}
		rec.observe("idle_open", setup[i])
		ok = append(ok, s)
	}
	if len(ok) == 0 {
		return nil, fmt.Errorf("no idle session opened: %w", errors.Join(errs...))
	}
	return ok, nil
}

func openIdleOne(ctx context.Context, o Options, user string) (*idleSession, error) {
	ic, err := dialIMAP(ctx, o.Target)
	if err != nil {
		return nil, err
	}
	ic.c.SetDeadline(time.Now().Add(o.Timeout))
	if err := ic.login(user, o.Password); err != nil {
		ic.Close()
		return nil, err
	}
	if err := ic.cmd("SELECT INBOX"); err != nil {
		ic.Close()
		return nil, err
	}
	if err := ic.idle(); err != nil {
		ic.Close()
		return nil, err
	}
	ic.c.SetDeadline(time.Time{})
	return &idleSession{ic: ic, user: user, before: ic.exists}, nil
}

func distinctUsers(ss []*idleSession) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s.user] {
			seen[s.user] = true
			out = append(out, s.user)
		}
	}
	return out
}

// openDeliverers logs in one APPEND connection per user.
func openDeliverers(ctx context.Context, o Options, users []string) ([]*imapConn, error) {
	var out []*imapConn
	for _, u := range users {
		ic, err := dialIMAP(ctx, o.Target)
		if err != nil {
			return out, err
		}
		out = append(out, ic)
		ic.c.SetDeadline(time.Now().Add(o.Timeout))
		if err := ic.login(u, o.Password); err != nil {
			return out, fmt.Errorf("deliverer login %s: %w", u, err)
		}
	}
	return out, nil
}

// notifyAll runs deliver and waits for every session to see one more
// message; it returns the time until the last session saw it. Every
// session is already blocked reading when deliver starts, so the load
// generator spends no CPU on its sessions until the server writes.
func notifyAll(o Options, sessions []*idleSession, deliver func(), rec *recorder) (time.Duration, []time.Time) {
	seen := make([]time.Time, len(sessions))
	errs := make([]error, len(sessions))
	var wg sync.WaitGroup
	for i, s := range sessions {
		s.ic.c.SetDeadline(time.Now().Add(o.Timeout))
		wg.Go(func() {
			if errs[i] = s.ic.waitExists(s.before + 1); errs[i] == nil {
				seen[i] = time.Now()
			}
		})
	}
	t0 := time.Now()
	deliver()
	wg.Wait()
	var last time.Duration
	for i := range sessions {
		if errs[i] != nil {
			rec.fail("notify", errs[i])
			continue
		}
		d := seen[i].Sub(t0)
		rec.observe("notify", d)
		last = max(last, d)
	}
	return last, seen
}

// appendAll APPENDs one message per user, each through its own session.
func appendAll(o Options, deliverers []*imapConn, users []string, rec *recorder) {
	var wg sync.WaitGroup
	for i, d := range deliverers {
		wg.Go(func() {
			d.c.SetDeadline(time.Now().Add(o.Timeout))
			if err := d.appendMsg("INBOX", "", o.Messages[0]); err != nil {
				rec.fail("deliver "+users[i], err)
			}
		})
	}
	wg.Wait()
}
