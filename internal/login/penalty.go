package login

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// Dovecot's auth penalty (auth-penalty.c, kept by anvil): every failed
// attempt from an address raises its penalty by one, up to
// penaltyMaxCount; the next attempt from it waits penaltySecs(n) counted
// from the last failure. A success resets it; an hour without failures
// forgets it.
const (
	penaltyInit     = 2 * time.Second
	penaltyMax      = 15 * time.Second
	penaltyMaxCount = 4
	penaltyExpire   = time.Hour
	// penaltyMaxAddrs bounds the table; when full, expired entries go
	// first, then the oldest.
	penaltyMaxAddrs = 100_000
	// IPv6 clients are grouped by their /48, as Dovecot does.
	penaltyIPv6Bits = 48
)

// PenaltyOptions inject the clock.
type PenaltyOptions struct {
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Penalty tracks failed authentications per remote address. A nil
// *Penalty does nothing. It is safe for concurrent use.
type Penalty struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex // guards seen
	seen map[netip.Addr]penaltyEntry
}

type penaltyEntry struct {
	count int
	last  time.Time
}

// NewPenalty returns an empty penalty table.
func NewPenalty(o PenaltyOptions) *Penalty {
	p := &Penalty{now: o.Now, sleep: o.Sleep, seen: map[netip.Addr]penaltyEntry{}}
	if p.now == nil {
		p.now = time.Now
	}
	if p.sleep == nil {
		p.sleep = sleepCtx
	}
	return p
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// penaltyDelay is auth_penalty_to_secs: 2s doubling per failure, at
// most 15s.
func penaltyDelay(count int) time.Duration {
	if count <= 0 {
		return 0
	}
	return min(penaltyInit<<(count-1), penaltyMax)
}

func penaltyKey(a netip.Addr) (netip.Addr, bool) {
	if !a.IsValid() {
		return a, false // unix socket peers: no penalty
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(penaltyIPv6Bits)
		return p.Addr(), true
	}
	return a, true
}

// Delay returns how long an attempt from a must wait now.
func (p *Penalty) Delay(a netip.Addr) time.Duration {
	if p == nil {
		return 0
	}
	k, ok := penaltyKey(a)
	if !ok {
		return 0
	}
	p.mu.Lock()
	e := p.seen[k]
	p.mu.Unlock()
	if e.count == 0 {
		return 0
	}
	left := penaltyDelay(e.count) - p.now().Sub(e.last)
	return max(left, 0)
}

// Wait sleeps out the penalty of a.
func (p *Penalty) Wait(ctx context.Context, a netip.Addr) error {
	if d := p.Delay(a); d > 0 {
		return p.sleep(ctx, d)
	}
	return nil
}

// Fail records a failed attempt from a.
func (p *Penalty) Fail(a netip.Addr) {
	if p == nil {
		return
	}
	k, ok := penaltyKey(a)
	if !ok {
		return
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	e, found := p.seen[k]
	if found && now.Sub(e.last) > penaltyExpire {
		e = penaltyEntry{}
	}
	if !found && len(p.seen) >= penaltyMaxAddrs {
		p.evictLocked(now)
	}
	e.count = min(e.count+1, penaltyMaxCount)
	e.last = now
	p.seen[k] = e
}

// Reset forgets a after a successful login.
func (p *Penalty) Reset(a netip.Addr) {
	if p == nil {
		return
	}
	if k, ok := penaltyKey(a); ok {
		p.mu.Lock()
		delete(p.seen, k)
		p.mu.Unlock()
	}
}

// Count returns a's current penalty (for `roost penalty` and tests).
func (p *Penalty) Count(a netip.Addr) int {
	if p == nil {
		return 0
	}
	k, _ := penaltyKey(a)
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[k].count
}

func (p *Penalty) evictLocked(now time.Time) {
	var oldest netip.Addr
	var oldestT time.Time
	for k, e := range p.seen {
		if now.Sub(e.last) > penaltyExpire {
			delete(p.seen, k)
			continue
		}
		if oldestT.IsZero() || e.last.Before(oldestT) {
			oldest, oldestT = k, e.last
		}
	}
	if len(p.seen) >= penaltyMaxAddrs {
		delete(p.seen, oldest)
	}
}
