package delivery

import (
	"bufio"
	"context"
	"io"
	"net/textproto"
	"strings"

	"roost/internal/storage"
)

// Filter decides what happens to a message before it is saved: the hook
// where Sieve (`mail_plugins = $mail_plugins sieve` in protocol lmtp/lda)
// plugs in. A nil slice is the implicit keep.
type Filter interface {
	Filter(ctx context.Context, m *Mail) ([]Action, error)
}

// ActionKind is what an Action does.
type ActionKind int

// Action kinds.
const (
	// Keep saves into Mailbox ("" is the default mailbox).
	Keep ActionKind = iota
	// FileInto saves into Mailbox (Sieve fileinto).
	FileInto
	// Discard drops the message (Sieve discard).
	Discard
	// Refuse fails the delivery permanently with Reason (Sieve ereject,
	// when Envelope.CanRefuse).
	Refuse
)

// Action is one decision of a Filter.
type Action struct {
	Kind    ActionKind
	Mailbox string
	Flags   []string
	Create  bool   // create the mailbox if missing (Sieve :create)
	Reason  string // Refuse
	// Sieve marks an action of the Sieve filter: delivery logs it in
	// Pigeonhole's words ("sieve: msgid=...: stored mail into mailbox
	// 'INBOX'", "... fileinto action: stored mail into ..."), and a
	// discard not at all (the filter logged it).
	Sieve bool
}

// Mail is what a Filter sees: the envelope, the recipient, the message and
// the user's mail (for mailboxexists and the like).
type Mail struct {
	Envelope  Envelope
	Recipient Recipient
	Message   Message
	User      storage.User

	header []byte // trace header added in front when saving
}

// Header returns the first value of a header field of the message ("" if
// absent).
func (m *Mail) Header(name string) string { return headerValue(m.Message, name) }

func headerValue(msg Message, name string) string {
	r := textproto.NewReader(bufio.NewReader(io.NewSectionReader(msg, 0, min(msg.Size(), 256<<10))))
	h, _ := r.ReadMIMEHeader()
	return strings.TrimSpace(h.Get(name))
}
