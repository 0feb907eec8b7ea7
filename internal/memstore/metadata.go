package memstore

import (
	"context"
	"maps"
	"slices"
	"strings"

	"roost/internal/storage"
)

// metadata holds METADATA entries (RFC 5464): per mailbox, so that they
// follow it through Rename and go with it on Delete, and the server's.
// Guarded by user.mu.
type metadata struct {
	cfg      storage.MetadataConfig
	comments map[string]string // configured mailbox comments, by full name
	server   map[string][]byte
	boxes    map[*mailbox]map[string][]byte
}

var _ storage.MetadataStore = (*userHandle)(nil)

// GetMetadata returns the entries of mailbox ("" = server), sorted.
func (h *userHandle) GetMetadata(ctx context.Context, mailbox string) ([]storage.MetadataEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	got := map[string][]byte{}
	if mailbox == "" {
		maps.Copy(got, u.meta.server)
		for _, e := range u.meta.cfg.ServerMetadata() {
			got[e.Name] = e.Value
		}
	} else {
		mb, err := u.metaBoxLocked(mailbox)
		if err != nil {
			return nil, err
		}
		if c := u.meta.comments[mb.name]; c != "" {
			got[storage.MetadataComment] = []byte(c) // a stored comment overrides it
		}
		maps.Copy(got, u.meta.boxes[mb])
		if info := u.infoLocked(mb.name, false, nil); len(info.SpecialUse) > 0 {
			got[storage.MetadataSpecialUse] = []byte(strings.Join(info.SpecialUse, " "))
		}
	}
	out := make([]storage.MetadataEntry, 0, len(got))
	for _, name := range slices.Sorted(maps.Keys(got)) {
		out = append(out, storage.MetadataEntry{Name: name, Value: slices.Clone(got[name])})
	}
	return out, nil
}

// SetMetadata sets and removes entries of mailbox ("" = server).
func (h *userHandle) SetMetadata(ctx context.Context, box string, entries []storage.MetadataEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, e := range entries {
		if storage.MetadataComputed(box, e.Name) {
			return storage.ReadOnlyMetadata(box, e.Name)
		}
	}
	var m map[string][]byte
	if box == "" {
		if u.meta.server == nil {
			u.meta.server = map[string][]byte{}
		}
		m = u.meta.server
	} else {
		mb, err := u.metaBoxLocked(box)
		if err != nil {
			return err
		}
		if u.meta.boxes == nil {
			u.meta.boxes = map[*mailbox]map[string][]byte{}
		}
		if u.meta.boxes[mb] == nil {
			u.meta.boxes[mb] = map[string][]byte{}
		}
		m = u.meta.boxes[mb]
	}
	for _, e := range entries {
		if e.Value == nil {
			delete(m, e.Name)
		} else {
			m[e.Name] = slices.Clone(e.Value)
		}
	}
	return nil
}

func (u *user) metaBoxLocked(name string) (*mailbox, error) {
	name, _, err := u.checkName(name)
	if err != nil {
		return nil, err
	}
	mb, ok := u.boxes[name]
	if !ok {
		return nil, notFound(name)
	}
	return mb, nil
}

// addComment records a configured mailbox comment.
func (m *metadata) addComment(name, comment string) {
	if comment == "" {
		return
	}
	if m.comments == nil {
		m.comments = map[string]string{}
	}
	m.comments[name] = comment
}
