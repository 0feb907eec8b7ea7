package imapserver

import (
	"context"
	"fmt"

	"roost/internal/storage"
)

// beginAppend starts an all-or-none append into a mailbox: the driver's
// transaction (storage.TransactionalAppender), or, for a driver without
// one, appendUndo, which saves each message at once and expunges them
// again on rollback.
func (c *conn) beginAppend(ctx context.Context, name string) (storage.AppendTransaction, error) {
	c.condstoreOpens(ctx, name)
	if ta, ok := c.user.(storage.TransactionalAppender); ok {
		return ta.BeginAppend(ctx, name)
	}
	if _, err := c.user.Status(ctx, name); err != nil {
		return nil, err
	}
	return &appendUndo{user: c.user, name: name}, nil
}

// appendUndo is the fallback transaction: other sessions may see the
// first messages of a MULTIAPPEND before a later one fails, but in the
// end either all are saved or none. Rollback expunges through a
// read-write view of its own, which claims \Recent for the mailbox's
// messages as any read-write SELECT would.
type appendUndo struct {
	user  storage.User
	name  string
	saved []storage.AppendResult
}

func (u *appendUndo) Append(ctx context.Context, msg storage.AppendMessage) error {
	res, err := u.user.Append(ctx, u.name, msg)
	if err != nil {
		return err
	}
	u.saved = append(u.saved, res)
	return nil
}

func (u *appendUndo) Commit(ctx context.Context) ([]storage.AppendResult, error) {
	res := u.saved
	u.saved = nil
	return res, nil
}

func (u *appendUndo) Rollback(ctx context.Context) error {
	if len(u.saved) == 0 {
		return nil
	}
	uids := make([]uint32, len(u.saved))
	for i, r := range u.saved {
		uids[i] = r.UID
	}
	u.saved = nil
	mb, err := u.user.Open(ctx, u.name, storage.OpenOptions{})
	if err != nil {
		return fmt.Errorf("open %q to undo an append: %w", u.name, err)
	}
	defer mb.Close()
	if err := mb.Expunge(ctx, uids); err != nil {
		return fmt.Errorf("expunge appended messages of %q: %w", u.name, err)
	}
	return nil
}
