package storage

import (
	"context"
	"io"
	"time"
)

// System flags. Keywords are any other atom; \Recent is not a stored flag
// (it is Message.Recent, per view).
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// Driver opens users' mail stores. One Driver value is long-lived and
// shared by every session, so that sessions of one user share the
// in-process change tracker of each mailbox.
type Driver interface {
	OpenUser(ctx context.Context, cfg UserConfig) (User, error)
}

// FieldFunc computes the cached fields of a message when it is saved (or
// when the cache is rebuilt): for example the pre-encoded IMAP ENVELOPE and
// BODYSTRUCTURE. The composition root supplies it so that storage knows
// nothing of IMAP. msg is the message in CRLF form.
type FieldFunc func(msg io.ReaderAt, size int64) (map[string][]byte, error)

// FsyncMode is mail_fsync.
type FsyncMode int

// mail_fsync values.
const (
	FsyncOptimized FsyncMode = iota
	FsyncAlways
	FsyncNever
)

// UserConfig is everything a driver needs to open one user's mail.
// Values are already %-expanded by the caller.
type UserConfig struct {
	Username   string
	Home       string // may be empty
	UID, GID   int    // -1 when not applicable
	Namespaces []NamespaceConfig
	Fsync      FsyncMode
	// DotlockLink: dotlock_use_excl = no, dot-locks are written to a
	// temporary file and linked to the lock name (NFSv2) instead of
	// created with O_EXCL.
	DotlockLink bool
	Fields      FieldFunc // may be nil
	Now         func() time.Time
	Metadata    MetadataConfig // METADATA (metadata.go)
}

// NamespaceConfig is one `namespace NAME { ... }` section.
type NamespaceConfig struct {
	Name          string // section name, e.g. "inbox"
	Type          string // "private", "shared" or "public"
	Prefix        string // e.g. "" or "INBOX." or "Shared/"
	Separator     string // hierarchy separator seen by clients, e.g. "/" or "."
	Location      string // mail_location for this namespace (already expanded), e.g. "maildir:~/Maildir:LAYOUT=fs"
	Inbox         bool
	Hidden        bool
	List          string // "yes", "no" or "children"
	Subscriptions bool
	Mailboxes     []MailboxConfig
}

// MailboxConfig is one `mailbox NAME { ... }` section inside a namespace.
type MailboxConfig struct {
	Name        string   // without the namespace prefix
	SpecialUse  []string // e.g. `\Sent`
	Auto        string   // "no", "create" or "subscribe"
	Autoexpunge time.Duration
	Comment     string
}

// Namespace is a namespace as clients see it.
type Namespace struct {
	Type          string // "private", "shared" or "public"
	Prefix        string
	Separator     string
	Inbox         bool
	Hidden        bool
	List          string
	Subscriptions bool
}

// Mailbox attributes reported by List (RFC 3501, RFC 3348, RFC 6154).
const (
	AttrNoSelect      = `\Noselect`
	AttrNoInferiors   = `\Noinferiors`
	AttrHasChildren   = `\HasChildren`
	AttrHasNoChildren = `\HasNoChildren`
	AttrMarked        = `\Marked`
	AttrUnmarked      = `\Unmarked`
	AttrNonExistent   = `\NonExistent`
)

// MailboxInfo describes one mailbox returned by User.List.
type MailboxInfo struct {
	Name       string   // full name as clients see it (namespace prefix and separator), UTF-8
	Attrs      []string // \Noselect, \HasChildren, \HasNoChildren, \Marked, ...
	SpecialUse []string // \Sent, \Trash, ...
}

// Status is the state of a mailbox.
type Status struct {
	UIDValidity   uint32
	UIDNext       uint32
	Messages      int
	Recent        int
	Unseen        int
	FirstUnseen   int // sequence number of the first unseen message, 0 if none
	HighestModSeq uint64
	Size          int64    // sum of message sizes (RFC822.SIZE)
	Keywords      []string // keywords defined in the mailbox
}

// Message is one message of a mailbox view.
type Message struct {
	UID          uint32
	Flags        []string // system flags and keywords, sorted; never \Recent
	Recent       bool     // \Recent in this view
	ModSeq       uint64
	InternalDate time.Time
	SaveDate     time.Time
	Size         int64 // RFC822.SIZE: size in CRLF form
}

// Expunge reports one expunged message as a view must announce it: Seq is
// the sequence number at the time of announcement, with earlier
// announcements of the same Changes already applied (IMAP EXPUNGE order).
type Expunge struct {
	UID uint32
	Seq uint32
}

// Changes is what Sync found since the view's previous sync.
type Changes struct {
	Expunged []Expunge // in announcement order
	Updated  []Message // messages whose flags or modseq changed (made by others); post-expunge view
	New      int       // number of messages appended to the view
}

// FlagOp is the operation of a STORE.
type FlagOp int

// Flag operations.
const (
	FlagsSet FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// StoreOptions modifies Mailbox.Store.
type StoreOptions struct {
	UnchangedSince uint64 // CONDSTORE; 0 = unconditional
}

// StoreResult is the outcome of Mailbox.Store.
type StoreResult struct {
	Updated  []Message // new state of messages whose flags changed
	Modified []uint32  // UIDs not stored because of UnchangedSince
}

// AppendMessage is a message to save.
type AppendMessage struct {
	Body         io.Reader // the message as received (CRLF or LF line ends)
	Size         int64     // size of Body if known, else -1
	Flags        []string  // system flags and keywords; \Recent is ignored
	InternalDate time.Time // zero means now
}

// AppendResult identifies a saved message.
type AppendResult struct {
	UIDValidity uint32
	UID         uint32
}

// CopyResult maps copied messages (UIDPLUS COPYUID).
type CopyResult struct {
	UIDValidity uint32   // of the destination
	SrcUIDs     []uint32 // in ascending order
	DstUIDs     []uint32 // DstUIDs[i] is the copy of SrcUIDs[i]
}

// OpenOptions modifies User.Open.
type OpenOptions struct {
	ReadOnly bool // EXAMINE: no \Recent claimed, no flag changes
}

// User is one user's mail: all namespaces. Mailbox names are full names as
// clients see them, in UTF-8, with the namespace separator. "INBOX" is
// case-insensitive.
type User interface {
	Username() string
	Namespaces() []Namespace
	// List returns every mailbox that exists, with the parents implied
	// by existing children as \Noselect (or \NonExistent) entries.
	List(ctx context.Context) ([]MailboxInfo, error)
	Create(ctx context.Context, name string, specialUse []string) error
	Delete(ctx context.Context, name string) error
	// Rename renames a mailbox and its children; subscriptions are left
	// as they are (Dovecot's RENAME).
	Rename(ctx context.Context, from, to string) error
	Subscriptions(ctx context.Context) ([]string, error)
	SetSubscribed(ctx context.Context, name string, subscribed bool) error
	// Status returns a mailbox's status without selecting it.
	Status(ctx context.Context, name string) (Status, error)
	// Append saves a message into a mailbox (selected or not).
	Append(ctx context.Context, name string, msg AppendMessage) (AppendResult, error)
	// Open returns a new view of a mailbox for one session.
	Open(ctx context.Context, name string, opts OpenOptions) (Mailbox, error)
	Close() error
}

// Reader is a message's content in CRLF form.
type Reader interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// Mailbox is one session's view of a mailbox. A view changes only when its
// owner calls Sync or Store, so sequence numbers stay stable between the
// points where the protocol allows announcing changes. A view is used by one
// goroutine at a time.
type Mailbox interface {
	Name() string
	ReadOnly() bool
	// Status is the status of the view.
	Status() Status
	// Messages is the view in UID order; sequence number = index + 1.
	// The slice must not be modified and is valid until the next Sync.
	Messages() []Message
	// Sync brings the view up to date with changes made by other views,
	// other processes and outside writers (new files in Maildir new/).
	Sync(ctx context.Context) (*Changes, error)
	// Notify returns a channel that becomes readable when Sync may have
	// changes to report (for IDLE). It is the same channel for the life
	// of the view.
	Notify() <-chan struct{}
	// Open returns a message's content.
	Open(ctx context.Context, uid uint32) (Reader, error)
	// Field returns a cached field of a message computed by the user's
	// FieldFunc (computing and caching it if missing). Unknown names
	// return a KindNotFound error.
	Field(ctx context.Context, uid uint32, name string) ([]byte, error)
	// Store changes flags of the given UIDs and updates the view.
	Store(ctx context.Context, uids []uint32, op FlagOp, flags []string, opts StoreOptions) (StoreResult, error)
	// Expunge removes the given UIDs (nil: every message with \Deleted).
	// The view keeps them until the next Sync, which announces them.
	Expunge(ctx context.Context, uids []uint32) error
	// Copy copies messages to another mailbox of the same user; with
	// move, the sources are expunged (announced by the next Sync).
	Copy(ctx context.Context, uids []uint32, dest string, move bool) (CopyResult, error)
	Close() error
}

// SyncOptions modifies a sync (SyncWith). The zero value is a full Sync.
type SyncOptions struct {
	// NoExpunges leaves messages expunged elsewhere in the view, with
	// their last known flags, for a later full Sync to report: flag
	// changes and new messages are still reported. IMAP uses it after
	// FETCH, STORE and SEARCH, where no EXPUNGE may be sent (RFC 3501
	// section 7.4.1).
	NoExpunges bool
	// FlagsOnly applies only flag changes the store already knows of (made
	// through this process): no message is added or removed and the disk
	// is not rescanned, so it is cheap enough to run before each command.
	// IMAP uses it so that FETCH and SEARCH see the latest flags, as
	// Dovecot's do.
	FlagsOnly bool
}

// MessageLister is implemented by mailboxes that can read their view
// without building Messages(): a large mailbox then costs a few bytes per
// message in a session instead of a Message each. Indexes are those of
// Messages() (sequence number - 1), valid until the next Sync or Store.
type MessageLister interface {
	Len() int                // len(Messages())
	UIDAt(i int) uint32      // Messages()[i].UID
	MessageAt(i int) Message // Messages()[i]
}

// OptionSyncer is implemented by a Mailbox that can sync with options.
type OptionSyncer interface {
	SyncWith(ctx context.Context, opts SyncOptions) (*Changes, error)
}

// SyncWith syncs mb with opts. A Mailbox that does not implement
// OptionSyncer gets a full Sync for the zero options and no sync at all
// otherwise (its changes wait for the next full Sync).
func SyncWith(ctx context.Context, mb Mailbox, opts SyncOptions) (*Changes, error) {
	if s, ok := mb.(OptionSyncer); ok {
		return s.SyncWith(ctx, opts)
	}
	if opts == (SyncOptions{}) {
		return mb.Sync(ctx)
	}
	return &Changes{}, nil
}

// ExpungeHistory is implemented by mailboxes that remember which UIDs were
// expunged at which MODSEQ, the source of QRESYNC's VANISHED (EARLIER)
// (RFC 7162 section 3.2.5.1). The history is kept long enough that a client
// offline for weeks still resynchronises; when it no longer reaches back to
// modseq, ok is false and the caller falls back as RFC 7162 section 3.2.5.2
// allows (every UID of the client's known set that no longer exists).
type ExpungeHistory interface {
	// ExpungedSince returns the UIDs expunged with a MODSEQ above modseq,
	// in ascending order.
	ExpungedSince(ctx context.Context, modseq uint64) (uids []uint32, ok bool, err error)
}
