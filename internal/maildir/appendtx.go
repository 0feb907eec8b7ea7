package maildir

import (
	"context"

	"roost/internal/storage"
)

// appendTx is the driver's storage.AppendTransaction (IMAP MULTIAPPEND,
// REPLACE): each message goes to tmp/ as it arrives, and Commit saves
// them all as one group-commit request, so that they get their UIDs
// together and share one MODSEQ, as in Dovecot's one index transaction.
// Rollback removes the tmp files; nothing was visible before Commit.
type appendTx struct {
	u      *user
	b      *box // referenced until Commit or Rollback
	ps     []pending
	fields []map[string][]byte
	done   bool
}

// BeginAppend starts an atomic append into the mailbox name.
func (u *user) BeginAppend(ctx context.Context, name string) (storage.AppendTransaction, error) {
	b, _, err := u.openBox(ctx, name)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	err = b.ensureDirs()
	b.mu.Unlock()
	if err != nil {
		u.d.release(b)
		return nil, err
	}
	return &appendTx{u: u, b: b}, nil
}

// Append writes one message to tmp/.
func (t *appendTx) Append(_ context.Context, am storage.AppendMessage) error {
	if t.done {
		return storage.Errorf(storage.KindInternal, "append after commit")
	}
	p, err := t.b.writeTmp(am.Body, am.Size)
	if err != nil {
		return err
	}
	p.flags, p.idate = am.Flags, am.InternalDate
	t.ps = append(t.ps, p)
	t.fields = append(t.fields, t.b.computeFields(p)) // outside the lock: parsing may be slow
	return nil
}

// Commit saves every message; on error none of them stays.
func (t *appendTx) Commit(ctx context.Context) ([]storage.AppendResult, error) {
	if t.done {
		return nil, storage.Errorf(storage.KindInternal, "append committed twice")
	}
	t.done = true
	defer t.u.d.release(t.b)
	if len(t.ps) == 0 {
		return nil, nil
	}
	req := &commitReq{ps: t.ps, fields: t.fields}
	if err := t.b.commit(ctx, req); err != nil {
		return nil, err
	}
	res := make([]storage.AppendResult, len(req.uids))
	for i, uid := range req.uids {
		res[i] = storage.AppendResult{UIDValidity: req.uidv, UID: uid}
	}
	return res, nil
}

// Rollback removes the messages written so far; a no-op after Commit.
func (t *appendTx) Rollback(context.Context) error {
	if t.done {
		return nil
	}
	t.done = true
	t.b.discard(t.ps)
	t.u.d.release(t.b)
	return nil
}

var _ storage.TransactionalAppender = (*user)(nil)
