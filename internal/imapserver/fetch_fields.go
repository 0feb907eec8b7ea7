package imapserver

import (
	"context"
	"fmt"
	"io"
	"slices"

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
	// FieldHeader is the message's raw header block, up to and including
	// the empty line: SEARCH reads FROM, SUBJECT, HEADER and SENT* keys
	// from it without opening the message.
	FieldHeader = "imap.header"
	// FieldSortKeys are the header-derived SORT and THREAD keys
	// (imap.AppendSortKeys), so that they are parsed once, at save; the
	// index keeps ".keys" fields in memory (mailindex.HotSuffix).
	FieldSortKeys = "imap.sort.keys"
)

// Fields is the storage.FieldFunc for IMAP: the composition root passes
// it in storage.UserConfig.Fields so that ENVELOPE, BODYSTRUCTURE and
// BODY are computed once, when a message is saved.
func Fields(msg io.ReaderAt, size int64) (map[string][]byte, error) {
	if size < 0 || size > message.MaxMessageSize {
		return nil, fmt.Errorf("imap fields: message size %d out of range", size)
	}
	buf := make([]byte, size)
	if _, err := msg.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, fmt.Errorf("imap fields: %w", err)
	}
	return computeFields(message.Parse(buf), buf), nil
}

// computeFields returns every cached field of a parsed message; data is
// the message the tree was parsed from.
func computeFields(root *message.Part, data []byte) map[string][]byte {
	hdr := data[min(root.Offset, int64(len(data))):min(root.BodyOffset(), int64(len(data)))]
	return map[string][]byte{
		FieldSortKeys:      imap.AppendSortKeys(nil, hdr),
		FieldEnvelope:      imap.Envelope(root),
		FieldBodyStructure: imap.BodyStructure(root, true),
		FieldBody:          imap.BodyStructure(root, false),
		FieldHeader:        slices.Clone(hdr),
		FieldPreview:       []byte(message.Snippet(data, root)),
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

	hdr   []message.Field // root header fields, read on demand
	block []byte          // cached header block read ahead (search_scan.go; only names' lines when names is set), or nil
	names []string        // when set, hdr holds only these fields (search_scan.go)
	parts []partText      // folded search text per part, computed on demand
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
	root, data, err := m.parsed(ctx)
	if err != nil {
		return nil, err
	}
	return computeFields(root, data)[name], nil
}

// headerFields returns the fields of the message's header block, from
// the field cache when the message has not been read yet.
func (m *msgData) headerFields(ctx context.Context) ([]message.Field, error) {
	if m.hdr != nil {
		return m.hdr, nil
	}
	var block []byte
	if m.root != nil {
		block = m.data[m.root.Offset:m.root.BodyOffset()]
	} else if m.block != nil {
		block = m.block
	} else {
		b, err := m.field(ctx, FieldHeader)
		if err != nil {
			return nil, err
		}
		block = b
	}
	if m.names != nil {
		m.hdr = imap.PickFields(block, m.names...)
	} else {
		m.hdr = message.ParseHeader(block)
	}
	if m.hdr == nil {
		m.hdr = []message.Field{}
	}
	return m.hdr, nil
}
