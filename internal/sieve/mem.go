package sieve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// MemMessage is a message stored by MemStore.
type MemMessage struct {
	Flags []string
	Data  []byte
}

// MemStore is an in-memory Mailboxes and Deliverer.
type MemStore struct {
	mu sync.Mutex // guards following
	// Boxes maps mailbox name to its messages; a present key is an
	// existing mailbox.
	Boxes map[string][]MemMessage
	// SpecialUse maps mailbox name to its special-use flags.
	SpecialUse map[string][]string
}

// NewMemStore returns a store with an INBOX.
func NewMemStore() *MemStore {
	return &MemStore{Boxes: map[string][]MemMessage{"INBOX": nil}, SpecialUse: map[string][]string{}}
}

// Create creates a mailbox.
func (s *MemStore) Create(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.Boxes[name]; !ok {
		s.Boxes[name] = nil
	}
}

// Messages returns the messages of a mailbox.
func (s *MemStore) Messages(name string) []MemMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]MemMessage(nil), s.Boxes[name]...)
}

// MailboxExists implements Mailboxes.
func (s *MemStore) MailboxExists(_ context.Context, name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.Boxes[name]
	return ok, nil
}

// SpecialUseExists implements Mailboxes.
func (s *MemStore) SpecialUseExists(_ context.Context, mailbox string, uses []string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range uses {
		found := false
		for box, flags := range s.SpecialUse {
			if (mailbox == "" || box == mailbox) && containsFold(flags, u) {
				found = true
			}
		}
		if !found {
			return false, nil
		}
	}
	return true, nil
}

// Deliver implements Deliverer.
func (s *MemStore) Deliver(_ context.Context, mailbox string, create bool, flags []string, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mailbox == "" || strings.Contains(mailbox, "//") || strings.HasPrefix(mailbox, "/") || strings.HasSuffix(mailbox, "/") {
		return fmt.Errorf("invalid mailbox name %q", mailbox)
	}
	if _, ok := s.Boxes[mailbox]; !ok && !create {
		return fmt.Errorf("%w: %s", ErrMailboxNotFound, mailbox)
	}
	s.Boxes[mailbox] = append(s.Boxes[mailbox], MemMessage{Flags: append([]string(nil), flags...), Data: msg})
	return nil
}

// MemTracker is an in-memory Tracker.
type MemTracker struct {
	mu  sync.Mutex // guards ids
	ids map[string]time.Time
}

// Seen implements Tracker.
func (t *MemTracker) Seen(_ context.Context, id string, now time.Time) (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	exp, ok := t.ids[id]
	return ok && now.Before(exp), nil
}

// Mark implements Tracker.
func (t *MemTracker) Mark(_ context.Context, id string, expires time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ids == nil {
		t.ids = map[string]time.Time{}
	}
	t.ids[id] = expires
	return nil
}

// Reset forgets every id.
func (t *MemTracker) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ids = nil
}

// SentMessage is one message captured by MemMailer.
type SentMessage struct {
	From string
	To   []string
	Data []byte
}

// MemMailer captures outgoing mail.
type MemMailer struct {
	mu   sync.Mutex // guards Sent
	Sent []SentMessage
}

// Send implements Mailer.
func (m *MemMailer) Send(_ context.Context, from string, to []string, msg []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Sent = append(m.Sent, SentMessage{From: from, To: append([]string(nil), to...), Data: append([]byte(nil), msg...)})
	return nil
}

// Reset forgets the captured mail.
func (m *MemMailer) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Sent = nil
}

// DirScripts loads include scripts from two directories as NAME.sieve.
type DirScripts struct {
	Personal, Global string
}

// Load implements Scripts.
func (d DirScripts) Load(_ context.Context, location, name string) ([]byte, error) {
	dir := d.Personal
	if location == "global" {
		dir = d.Global
	}
	if dir == "" || strings.ContainsAny(name, "/\x00") {
		return nil, fmt.Errorf("load %s script %q: %w", location, name, ErrScriptNotFound)
	}
	data, err := os.ReadFile(filepath.Join(dir, name+".sieve"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load %s script %q: %w", location, name, ErrScriptNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s script %q: %w", location, name, err)
	}
	return data, nil
}
