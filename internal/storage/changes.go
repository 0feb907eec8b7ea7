package storage

import (
	"context"
	"slices"
	"sync"
)

// ChangeKind says what changed in a user's mail (the change feed, used
// for IMAP NOTIFY, RFC 5465).
type ChangeKind uint8

// Change kinds.
const (
	// ChangeMessages: messages were added, expunged or had their flags
	// changed in Change.Mailbox. The watcher asks Status for the rest.
	ChangeMessages ChangeKind = iota + 1
	// ChangeMailboxName: Mailbox was created, deleted (Deleted) or
	// renamed from OldName.
	ChangeMailboxName
	// ChangeSubscription: Mailbox was subscribed or unsubscribed
	// (Subscribed says which).
	ChangeSubscription
	// ChangeUnknown: something changed that the store could not name
	// (a feed that overflowed): the watcher rescans everything.
	ChangeUnknown
)

// Change is one entry of a user's change feed. Mailbox names are full
// names as clients see them, in UTF-8.
type Change struct {
	Kind       ChangeKind
	Mailbox    string
	OldName    string // ChangeMailboxName: the name before a rename
	Deleted    bool   // ChangeMailboxName: the mailbox no longer exists
	Subscribed bool   // ChangeSubscription: the new state
}

// ChangeWatcher is implemented by a User whose store publishes a change
// feed: every change made through any session of the same user in this
// process, by delivery, and (found by the driver's periodic poll) by
// other processes writing the same store.
type ChangeWatcher interface {
	// WatchChanges subscribes to the user's changes. wake, if not nil,
	// is called (from the goroutine that made the change, with store
	// locks held: it must not block nor call back into storage) each
	// time a change is queued. The caller closes the subscription.
	WatchChanges(ctx context.Context, wake func()) *ChangeSub
}

// Children returns the names of the mailboxes below name (sep is its
// namespace's separator), for publishing a rename of each.
func Children(ctx context.Context, u User, name, sep string) []string {
	infos, err := u.List(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, mi := range infos {
		if len(mi.Name) > len(name)+len(sep) && mi.Name[:len(name)+len(sep)] == name+sep &&
			!slices.Contains(mi.Attrs, AttrNonExistent) {
			out = append(out, mi.Name)
		}
	}
	return out
}

// MaxQueuedChanges bounds the changes one subscription holds before
// its reader takes them; past it the subscription overflows.
const MaxQueuedChanges = 256

// ChangeHub fans changes out to subscriptions. The zero value is ready.
type ChangeHub struct {
	mu   sync.Mutex // guards following
	subs map[*ChangeSub]struct{}
}

// ChangeSub is one subscription to a ChangeHub. It is read by one
// goroutine (Take, C, Close); publishers only append.
type ChangeSub struct {
	hub   *ChangeHub
	wake  func()
	ready chan struct{} // capacity 1: readable when changes are queued

	mu       sync.Mutex // guards following
	queue    []Change
	overflow bool
}

// Subscribe adds a subscription; see ChangeWatcher.WatchChanges.
func (h *ChangeHub) Subscribe(wake func()) *ChangeSub {
	s := &ChangeSub{hub: h, wake: wake, ready: make(chan struct{}, 1)}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*ChangeSub]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Len returns the number of subscriptions.
func (h *ChangeHub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Publish queues ch on every subscription. A message change equal to
// one still queued replaces it (so the queue holds it once, at the end).
func (h *ChangeHub) Publish(ch Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.add(ch)
	}
}

func (s *ChangeSub) add(ch Change) {
	s.mu.Lock()
	queued := false
	switch {
	case s.overflow:
	case len(s.queue) >= MaxQueuedChanges:
		s.overflow, s.queue = true, nil
		queued = true
	default:
		if ch.Kind == ChangeMessages {
			s.dropLocked(ch) // keep one, the latest: it may follow changes it must not precede
		}
		s.queue = append(s.queue, ch)
		queued = true
	}
	s.mu.Unlock()
	if !queued {
		return
	}
	select {
	case s.ready <- struct{}{}:
	default:
	}
	if s.wake != nil {
		s.wake()
	}
}

func (s *ChangeSub) dropLocked(ch Change) {
	for i, q := range s.queue {
		if q == ch {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			return
		}
	}
}

// C is readable when changes may be queued.
func (s *ChangeSub) C() <-chan struct{} { return s.ready }

// Pending reports whether changes are queued (or the queue overflowed).
func (s *ChangeSub) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue) > 0 || s.overflow
}

// Take returns the queued changes in order and empties the queue.
// overflow reports that changes were lost since the last Take: more than
// MaxQueuedChanges were queued.
func (s *ChangeSub) Take() (changes []Change, overflow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changes, overflow = s.queue, s.overflow
	s.queue, s.overflow = nil, false
	return changes, overflow
}

// Close ends the subscription.
func (s *ChangeSub) Close() {
	s.hub.mu.Lock()
	delete(s.hub.subs, s)
	s.hub.mu.Unlock()
}
