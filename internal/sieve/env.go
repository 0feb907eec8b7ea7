package sieve

import (
	"context"
	"time"

	"roost/internal/message"
)

// Message is the message a script runs against. Delivery implements it over
// its already-parsed message; ParseMessage builds one from bytes.
type Message interface {
	// Bytes returns the whole message, header and body.
	Bytes() []byte
	// Root returns the parsed MIME tree of Bytes.
	Root() *message.Part
	// Header returns the top-level header fields in order.
	Header() []message.Field
}

// Envelope is the SMTP envelope (RFC 5228 section 5.4). From is the reverse
// path without angle brackets ("" for the null sender); To the recipient
// this run is for; OrigTo the original recipient (ORCPT); Auth the SMTP
// AUTH identity.
type Envelope struct {
	From, To, OrigTo, Auth string
}

// Mailboxes is the mailbox side of the runtime: existence checks for the
// mailbox and special-use extensions. Storing happens when a Result is
// executed, through Deliverer.
type Mailboxes interface {
	MailboxExists(ctx context.Context, name string) (bool, error)
	// SpecialUseExists reports whether mailbox (or, when empty, any
	// mailbox) has every one of the special-use flags.
	SpecialUseExists(ctx context.Context, mailbox string, uses []string) (bool, error)
}

// Deliverer executes store actions: it saves msg into mailbox with the
// flags, creating the mailbox first when create is set. A missing mailbox
// without create must yield an error wrapping ErrMailboxNotFound, so that
// the caller can fall back to INBOX.
type Deliverer interface {
	Deliver(ctx context.Context, mailbox string, create bool, flags []string, msg []byte) error
}

// Tracker remembers duplicate and vacation ids per user (RFC 7352,
// RFC 5230 section 4.2).
type Tracker interface {
	// Seen reports whether id was marked and has not expired at now.
	Seen(ctx context.Context, id string, now time.Time) (bool, error)
	// Mark records id until expires.
	Mark(ctx context.Context, id string, expires time.Time) error
}

// Mailer sends outgoing mail: redirects, vacation replies, rejects and
// notifications. from is the envelope sender ("" for the null sender).
type Mailer interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// Scripts loads scripts for include (RFC 6609): location is "personal" or
// "global". A missing script yields an error wrapping ErrScriptNotFound.
type Scripts interface {
	Load(ctx context.Context, location, name string) ([]byte, error)
}

// Env is everything a run needs besides the script.
type Env struct {
	Message  Message
	Envelope Envelope
	// User is the user's own address (vacation's default :from and the
	// "to ourselves" check); empty uses Envelope.To.
	User string
	// Home is the user's home directory (HOME of extprograms programs).
	Home      string
	Mailboxes Mailboxes
	Tracker   Tracker
	Scripts   Scripts
	// Settings is the Pigeonhole configuration; nil means Config parsed
	// with ParseConfig (and DefaultConfig when that is empty too).
	Settings *Config
	// Config holds Pigeonhole settings by name (sieve_max_actions,
	// recipient_delimiter, sieve_spamtest_status_header, ...), for callers
	// that have no Settings.
	Config map[string]string
	// Environment holds the environment extension's items beyond the
	// built-in ones (RFC 5183 section 4.1), e.g. "imap.cause".
	Environment map[string]string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metadata reads METADATA entries (mboxmetadata, servermetadata); nil
	// makes those tests false.
	Metadata Metadata
	// Flags are the initial imap4flags internal variable (imapsieve).
	Flags []string
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) config(name string) (string, bool) {
	v, ok := e.settings().Raw[name]
	return v, ok
}

// settings returns Settings, or Config parsed (bad values keep their
// defaults).
func (e *Env) settings() *Config {
	if e.Settings != nil {
		return e.Settings
	}
	c, _ := ParseConfig(e.Config)
	return c
}

type rawMessage struct {
	data   []byte
	root   *message.Part
	header []message.Field
}

// ParseMessage wraps raw message bytes (LF or CRLF line ends) as a Message.
func ParseMessage(data []byte) Message {
	m := &rawMessage{data: data, root: message.Parse(data)}
	m.header = message.ParseHeader(data[:m.root.Header.Physical])
	return m
}

func (m *rawMessage) Bytes() []byte           { return m.data }
func (m *rawMessage) Root() *message.Part     { return m.root }
func (m *rawMessage) Header() []message.Field { return m.header }
