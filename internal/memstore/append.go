package memstore

import (
	"context"

	"roost/internal/storage"
)

// appendTx is memstore's storage.AppendTransaction: messages are read
// into memory by Append and added to the mailbox under one lock by
// Commit, so no view sees part of the batch.
type appendTx struct {
	h    *userHandle
	name string
	msgs []pendingAppend
	done bool
}

type pendingAppend struct {
	body []byte
	msg  storage.AppendMessage
}

// BeginAppend implements storage.TransactionalAppender.
func (h *userHandle) BeginAppend(ctx context.Context, name string) (storage.AppendTransaction, error) {
	h.u.mu.Lock()
	_, err := h.u.lookupLocked(name)
	h.u.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &appendTx{h: h, name: name}, nil
}

func (tx *appendTx) Append(ctx context.Context, msg storage.AppendMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := normalizeFlags(msg.Flags); err != nil {
		return err
	}
	body, err := readCRLF(msg.Body)
	if err != nil {
		return err
	}
	msg.Body = nil
	tx.msgs = append(tx.msgs, pendingAppend{body: body, msg: msg})
	return nil
}

func (tx *appendTx) Commit(ctx context.Context) ([]storage.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tx.done = true
	u := tx.h.u
	msgs := make([]*message, len(tx.msgs))
	for i, p := range tx.msgs {
		flags, _ := normalizeFlags(p.msg.Flags)
		m := &message{flags: flags, internalDate: p.msg.InternalDate, body: p.body, recent: true}
		m.fields, m.fieldsErr = u.computeFields(p.body)
		msgs[i] = m
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	mb, err := u.lookupLocked(tx.name)
	if err != nil {
		return nil, err
	}
	now := u.now()
	res := make([]storage.AppendResult, len(msgs))
	for i, m := range msgs {
		m.flags = mb.canonKeywordsLocked(m.flags)
		if m.internalDate.IsZero() {
			m.internalDate = now
		}
		mb.appendLocked(m, now)
		res[i] = storage.AppendResult{UIDValidity: mb.uidValidity, UID: m.uid}
	}
	mb.notifyLocked(nil)
	return res, nil
}

func (tx *appendTx) Rollback(ctx context.Context) error {
	tx.done, tx.msgs = true, nil
	return nil
}
