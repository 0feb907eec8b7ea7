package auth

import (
	"context"
	"sync/atomic"
)

// pool bounds how many slow operations (expensive password hashes,
// blocking drivers) run at once. A caller takes a slot, runs in its own
// goroutine and gives the slot back; callers that find every slot taken
// queue in FIFO order (Go serves blocked channel senders in order). Work
// that is not slow never touches the pool, so a cheap login is never
// queued behind expensive ones.
type pool struct {
	slots  chan struct{}
	queued atomic.Int64
	// onQueue, when set (tests), is called after a caller joined the queue.
	onQueue func()
}

func newPool(n int) *pool {
	if n < 1 {
		n = 1
	}
	return &pool{slots: make(chan struct{}, n)}
}

// run calls fn holding a slot; it returns ctx's error if the context
// ends while queued (fn has not run then).
func (p *pool) run(ctx context.Context, fn func()) error {
	select {
	case p.slots <- struct{}{}:
	default:
		p.queued.Add(1)
		if p.onQueue != nil {
			p.onQueue()
		}
		select {
		case p.slots <- struct{}{}:
			p.queued.Add(-1)
		case <-ctx.Done():
			p.queued.Add(-1)
			return ctx.Err()
		}
	}
	defer func() { <-p.slots }()
	fn()
	return nil
}

// Queued returns how many callers wait for a slot.
func (p *pool) Queued() int { return int(p.queued.Load()) }
