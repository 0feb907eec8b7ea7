package imapserver

import (
	"context"
	"fmt"
	"io"

	"roost/internal/imap"
	"roost/internal/message"
	"roost/internal/storage"
)

// Names of the cached fields that FETCH reads through storage
// Mailbox.Field. Values are pre-encoded without the outer parentheses.
const (
	FieldEnvelope      = "imap.envelope"
	FieldBodyStructure = "imap.bodystructure"
	FieldBody          = "imap.body"
)

// Fields is the storage.FieldFunc for IMAP: the composition root passes
// it in storage.UserConfig.Fields so that ENVELOPE, BODYSTRUCTURE and
// BODY are computed once, when a message is saved.
func Fields(msg io.ReaderAt, size int64) (map[string][]byte, error) {
	root, err := message.ParseReader(msg, size)
	if err != nil {
		return nil, fmt.Errorf("imap fields: %w", err)
	}
	return computeFields(root), nil
}

func computeFields(root *message.Part) map[string][]byte {
	return map[string][]byte{
		FieldEnvelope:      imap.Envelope(root),
		FieldBodyStructure: imap.BodyStructure(root, true),
		FieldBody:          imap.BodyStructure(root, false),
	}
}

// msgData is what FETCH and SEARCH learned about one message so far; it
// opens and parses the message at most once.
type msgData struct {
	mb   storage.Mailbox
	uid  uint32
	r    storage.Reader
	root *message.Part
	data []byte // whole message, read when parsed

	body, header *string // folded search text, computed on demand
}

func (m *msgData) close() {
	if m.r != nil {
		m.r.Close()
		m.r = nil
	}
}

func (m *msgData) reader(ctx context.Context) (storage.Reader, error) {
	if m.r == nil {
		r, err := m.mb.Open(ctx, m.uid)
		if err != nil {
			return nil, err
		}
		m.r = r
	}
	return m.r, nil
}

// parsed returns the message's MIME tree and bytes.
func (m *msgData) parsed(ctx context.Context) (*message.Part, []byte, error) {
	if m.root != nil {
		return m.root, m.data, nil
	}
	r, err := m.reader(ctx)
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, r.Size())
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("read message %d: %w", m.uid, err)
	}
	m.root, m.data = message.Parse(buf), buf
	return m.root, m.data, nil
}

// field returns a pre-encoded field from the storage cache, computing it
// when the cache has none.
func (m *msgData) field(ctx context.Context, name string) ([]byte, error) {
	b, err := m.mb.Field(ctx, m.uid, name)
	if err == nil {
		return b, nil
	}
	if storage.KindOf(err) != storage.KindNotFound {
		return nil, err
	}
	root, _, err := m.parsed(ctx)
	if err != nil {
		return nil, err
	}
	return computeFields(root)[name], nil
}
