package pop3server

import (
	"context"
)

// Optional interfaces a storage.Mailbox may implement for the
// pop3_uidl_format variables and pop3_save_uidl. A mailbox that does not
// implement one makes the variables it provides fail, as Dovecot's
// storages without them do ("not supported by storage").

// StorageIDer gives a message's storage ID: %f (Maildir: the file name up
// to ":2,", Dovecot's MAIL_FETCH_STORAGE_ID).
type StorageIDer interface {
	StorageID(ctx context.Context, uid uint32) (string, error)
}

// GUIDer gives a message's GUID: %g (Maildir: the uidlist's G field, else
// the file's base name).
type GUIDer interface {
	GUID(ctx context.Context, uid uint32) (string, error)
}

// HeaderMD5er gives the MD5 of a message's header as Dovecot's mbox
// storage keeps it: %m. Dovecot's Maildir has none.
type HeaderMD5er interface {
	HeaderMD5(ctx context.Context, uid uint32) (string, error)
}

// UIDLStore keeps UIDLs sent to POP3 clients (Dovecot's "P" field of
// dovecot-uidlist): a saved UIDL is used as it is, whatever the format.
type UIDLStore interface {
	// POP3UIDL returns the saved UIDL of uid, "" when none.
	POP3UIDL(ctx context.Context, uid uint32) (string, error)
	// SetPOP3UIDL saves uidl for uid (pop3_save_uidl).
	SetPOP3UIDL(ctx context.Context, uid uint32, uidl string) error
}

// UIDLBatchStore saves many UIDLs at once (one dovecot-uidlist rewrite for
// a whole UIDL listing); preferred over UIDLStore.SetPOP3UIDL.
type UIDLBatchStore interface {
	SetPOP3UIDLs(ctx context.Context, uidls map[uint32]string) error
}

// SessionLocker is a storage.User that takes pop3_lock_session's lock
// where other processes see it (Maildir: Dovecot's
// dovecot-pop3-session.lock), so a Dovecot POP3 session and a roost one
// exclude each other. It waits a bounded time for the lock, then fails
// with storage.KindInUse. Without it the lock is held within this process
// only.
type SessionLocker interface {
	LockPOP3Session(ctx context.Context) (unlock func(), err error)
}
