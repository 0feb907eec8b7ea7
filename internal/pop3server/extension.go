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
