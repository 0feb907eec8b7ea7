package storage

import "context"

// AppendTransaction saves several messages into one mailbox atomically:
// none of them is visible to other views until Commit, and after Rollback
// (or a failed Commit) none of them exists. IMAP MULTIAPPEND (RFC 3502
// section 6.3.11) and REPLACE need it.
type AppendTransaction interface {
	// Append reads and keeps one message of the transaction.
	Append(ctx context.Context, msg AppendMessage) error
	// Commit saves every message at once; results are in Append order.
	Commit(ctx context.Context) ([]AppendResult, error)
	// Rollback drops the messages. It is a no-op after Commit.
	Rollback(ctx context.Context) error
}

// TransactionalAppender is implemented by a User whose driver can append
// atomically. Without it a caller appends one by one and expunges what
// it saved when a later message fails (not atomic for concurrent
// readers, but all or none in the end).
type TransactionalAppender interface {
	BeginAppend(ctx context.Context, name string) (AppendTransaction, error)
}
