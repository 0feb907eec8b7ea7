package memstore

import (
	"context"

	"roost/internal/storage"
)

// The change feed (storage.ChangeWatcher, for IMAP NOTIFY): message
// changes are published by mailbox.notifyLocked, mailbox and subscription
// changes by feedHandle. Everything happens in this process, so nothing
// is polled.

// feedHandle is a userHandle whose mailbox and subscription changes are
// published to the user's feed.
type feedHandle struct {
	*userHandle
}

var _ storage.ChangeWatcher = feedHandle{}

// WatchChanges subscribes to the user's change feed.
func (h feedHandle) WatchChanges(ctx context.Context, wake func()) *storage.ChangeSub {
	return h.u.feed.Subscribe(wake)
}

func (h feedHandle) canonical(name string) string {
	h.u.mu.Lock()
	defer h.u.mu.Unlock()
	if n, _, err := h.u.checkName(name); err == nil {
		return n
	}
	return name
}

// Create creates a mailbox and publishes it.
func (h feedHandle) Create(ctx context.Context, name string, specialUse []string) error {
	if err := h.userHandle.Create(ctx, name, specialUse); err != nil {
		return err
	}
	h.u.feed.Publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: h.canonical(name)})
	return nil
}

// Delete deletes a mailbox and publishes it.
func (h feedHandle) Delete(ctx context.Context, name string) error {
	if err := h.userHandle.Delete(ctx, name); err != nil {
		return err
	}
	h.u.feed.Publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: h.canonical(name), Deleted: true})
	return nil
}

// Rename renames a mailbox and its children, and publishes each.
func (h feedHandle) Rename(ctx context.Context, from, to string) error {
	from, to = h.canonical(from), h.canonical(to)
	var children []string
	if h.u.feed.Len() > 0 {
		sep := "/"
		if ns, ok := h.u.nsOf(from); ok {
			sep = ns.Separator
		}
		children = storage.Children(ctx, h, from, sep)
	}
	if err := h.userHandle.Rename(ctx, from, to); err != nil {
		return err
	}
	h.u.feed.Publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: to, OldName: from})
	for _, c := range children {
		h.u.feed.Publish(storage.Change{Kind: storage.ChangeMailboxName, Mailbox: to + c[len(from):], OldName: c})
	}
	return nil
}

// SetSubscribed changes a subscription and publishes it.
func (h feedHandle) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	if err := h.userHandle.SetSubscribed(ctx, name, subscribed); err != nil {
		return err
	}
	h.u.feed.Publish(storage.Change{Kind: storage.ChangeSubscription, Mailbox: h.canonical(name), Subscribed: subscribed})
	return nil
}
