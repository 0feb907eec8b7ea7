package storage

import (
	"context"
	"errors"
	"strings"
)

// MetadataEntry is one annotation (RFC 5464 section 3): Name is the full
// entry name in lower case, starting with "/private/" or "/shared/" (or
// exactly "/private" or "/shared"), for example "/private/comment". Value
// is nil when the entry is to be removed (SetMetadata) and never nil in
// what GetMetadata returns.
type MetadataEntry struct {
	Name  string
	Value []byte
}

// MetadataStore is implemented by a User that keeps mailbox and server
// annotations: IMAP METADATA (RFC 5464) and, read-only, Sieve's
// mboxmetadata and servermetadata (RFC 5490). Mailbox "" is the server.
// Entries follow the mailbox through Rename and are dropped with it by
// Delete.
//
// Some entries are computed, not stored, and cannot be set (SetMetadata
// fails with ErrMetadataReadOnly): "/private/specialuse" of a mailbox (its
// special-use attributes, configured or given to Create) and the server's
// "/shared/comment" and "/shared/admin" (MetadataConfig). GetMetadata
// includes them, and a mailbox's configured comment as "/private/comment"
// while none is stored.
type MetadataStore interface {
	// GetMetadata returns every entry of a mailbox, or of the server for
	// "", sorted by name. A mailbox that does not exist is KindNotFound.
	GetMetadata(ctx context.Context, mailbox string) ([]MetadataEntry, error)
	// SetMetadata sets entries with a Value and removes those without,
	// all or none.
	SetMetadata(ctx context.Context, mailbox string, entries []MetadataEntry) error
}

// MetadataConfig is the server-wide part of METADATA (UserConfig.Metadata).
type MetadataConfig struct {
	// Dict is where a driver keeps entries: a file path, Dovecot's
	// mail_attribute_dict without "file:", already expanded. Empty means
	// the driver's default (Maildir: dovecot-attributes in the INBOX
	// namespace's root, where Dovecot's usual setting puts it).
	Dict string
	// ServerComment and ServerAdmin are the server's /shared/comment
	// and /shared/admin (mail_server_comment, mail_server_admin).
	ServerComment string
	ServerAdmin   string
}

// Computed entries (MetadataStore). MetadataComment of a mailbox defaults
// to the comment of its configured mailbox section (NamespaceConfig's
// MailboxConfig.Comment); a stored value overrides it, as in Dovecot.
const (
	MetadataComment       = "/private/comment"
	MetadataSpecialUse    = "/private/specialuse"
	MetadataServerComment = "/shared/comment"
	MetadataServerAdmin   = "/shared/admin"
)

// ErrMetadataReadOnly is wrapped by the KindNotPossible error SetMetadata
// returns for a computed entry.
var ErrMetadataReadOnly = errors.New("metadata entry cannot be changed")

// ReadOnlyMetadata returns the error for setting the computed entry name
// of mailbox ("" = server). The text is Dovecot's, which names server
// entries by the key it keeps them under.
func ReadOnlyMetadata(mailbox, name string) error {
	shown := name
	if mailbox == "" {
		scope, rest, _ := strings.Cut(strings.TrimPrefix(name, "/"), "/")
		shown = "/" + scope + "/vendor/vendor.dovecot/pvt/server/" + rest
	}
	return &Error{Kind: KindNotPossible, Msg: "The " + shown + " attribute cannot be changed", Err: ErrMetadataReadOnly}
}

// ServerMetadata returns the computed server entries of cfg, sorted.
func (cfg MetadataConfig) ServerMetadata() []MetadataEntry {
	var out []MetadataEntry
	if cfg.ServerAdmin != "" {
		out = append(out, MetadataEntry{Name: MetadataServerAdmin, Value: []byte(cfg.ServerAdmin)})
	}
	if cfg.ServerComment != "" {
		out = append(out, MetadataEntry{Name: MetadataServerComment, Value: []byte(cfg.ServerComment)})
	}
	return out
}

// MetadataComputed reports whether name is a computed entry of mailbox
// ("" = server), which SetMetadata refuses.
func MetadataComputed(mailbox, name string) bool {
	if mailbox == "" {
		return name == MetadataServerComment || name == MetadataServerAdmin
	}
	return name == MetadataSpecialUse
}
