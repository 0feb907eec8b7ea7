package memstore

import (
	"context"
	"slices"
	"sort"

	"roost/internal/storage"
)

// userHandle is one session's storage.User.
type userHandle struct {
	u *user
}

var _ storage.User = (*userHandle)(nil)

func (h *userHandle) Username() string { return h.u.name }

func (h *userHandle) Namespaces() []storage.Namespace {
	out := make([]storage.Namespace, len(h.u.nss))
	for i, ns := range h.u.nss {
		out[i] = ns.Namespace
	}
	return out
}

func (h *userHandle) Close() error { return nil }

// List returns every mailbox plus the implied parents as \Noselect.
func (h *userHandle) List(ctx context.Context) ([]storage.MailboxInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	exists := make(map[string]bool, len(u.boxes))
	for name := range u.boxes {
		exists[name] = false
		for _, p := range u.parents(name) {
			if _, ok := exists[p]; !ok {
				exists[p] = true // implied
			}
		}
	}
	for name := range u.boxes {
		exists[name] = false
	}
	names := make([]string, 0, len(exists))
	for name := range exists {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]storage.MailboxInfo, 0, len(names))
	for _, name := range names {
		out = append(out, u.infoLocked(name, exists[name], names))
	}
	return out, nil
}

func (u *user) infoLocked(name string, implied bool, all []string) storage.MailboxInfo {
	info := storage.MailboxInfo{Name: name}
	if implied {
		info.Attrs = append(info.Attrs, storage.AttrNoSelect)
	}
	children := false
	for _, other := range all {
		if u.isChild(other, name) {
			children = true
			break
		}
	}
	if children {
		info.Attrs = append(info.Attrs, storage.AttrHasChildren)
	} else {
		info.Attrs = append(info.Attrs, storage.AttrHasNoChildren)
	}
	if mb, ok := u.boxes[name]; ok && len(mb.specialUse) > 0 {
		info.SpecialUse = slices.Clone(mb.specialUse)
	} else if su := u.specialUses[name]; len(su) > 0 && !implied {
		info.SpecialUse = slices.Clone(su)
	}
	return info
}

func (h *userHandle) Create(ctx context.Context, name string, specialUse []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	name, _, err := u.checkName(name)
	if err != nil {
		return err
	}
	if _, ok := u.boxes[name]; ok {
		return storage.Errorf(storage.KindExists, "Mailbox already exists")
	}
	u.createLocked(name, slices.Clone(specialUse))
	return nil
}

// Delete removes a mailbox and its messages. Its children stay; the name
// then lists as \Noselect while they exist.
func (h *userHandle) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	name, _, err := u.checkName(name)
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return storage.Errorf(storage.KindNotPossible, "INBOX can't be deleted.")
	}
	mb, ok := u.boxes[name]
	if !ok {
		return notFound(name)
	}
	delete(u.boxes, name)
	delete(u.meta.boxes, mb)
	mb.deleted = true
	mb.notifyLocked(nil)
	return nil
}

// Rename renames a mailbox and its children. Renaming INBOX moves its
// messages into a new mailbox and leaves INBOX empty, children in place.
// hasChildLocked reports whether a mailbox exists under name (a
// \NonExistent parent can be renamed with its children, as in Dovecot).
func (u *user) hasChildLocked(name string) bool {
	for n := range u.boxes {
		if u.isChild(n, name) {
			return true
		}
	}
	return false
}

func (h *userHandle) Rename(ctx context.Context, from, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	from, _, err := u.checkName(from)
	if err != nil {
		return err
	}
	to, _, err = u.checkName(to)
	if err != nil {
		return err
	}
	src, ok := u.boxes[from]
	if !ok && !u.hasChildLocked(from) {
		return notFound(from)
	}
	if _, ok := u.boxes[to]; ok || from == to {
		return storage.Errorf(storage.KindExists, "Target mailbox already exists")
	}
	if u.isChild(to, from) {
		return storage.Errorf(storage.KindParams, "Can't rename mailbox under itself.")
	}
	if from == "INBOX" {
		u.renameInboxLocked(src, to)
		return nil
	}
	for name := range u.boxes {
		if name == from || u.isChild(name, from) {
			if _, ok := u.boxes[to+name[len(from):]]; ok {
				return storage.Errorf(storage.KindExists, "Target mailbox already exists")
			}
		}
	}
	moved := make(map[string]*mailbox)
	for name, mb := range u.boxes {
		if name == from || u.isChild(name, from) {
			moved[to+name[len(from):]] = mb
			delete(u.boxes, name)
		}
	}
	for name, mb := range moved {
		mb.name = name
		u.boxes[name] = mb
		mb.notifyLocked(nil)
	}
	return nil
}

func (u *user) renameInboxLocked(inbox *mailbox, to string) {
	dst := u.createLocked(to, nil)
	for _, m := range inbox.msgs {
		dst.appendLocked(m.clone(dst.uidNext), u.now())
	}
	inbox.expungeLocked(inbox.uids())
	inbox.notifyLocked(nil)
}

func (h *userHandle) Subscriptions(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, 0, len(u.subscribed))
	for name := range u.subscribed {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// SetSubscribed (un)subscribes a name; the mailbox need not exist.
func (h *userHandle) SetSubscribed(ctx context.Context, name string, subscribed bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	name, _, err := u.checkName(name)
	if err != nil {
		return err
	}
	if subscribed {
		u.subscribed[name] = true
	} else {
		delete(u.subscribed, name)
	}
	return nil
}

func (h *userHandle) Status(ctx context.Context, name string) (storage.Status, error) {
	if err := ctx.Err(); err != nil {
		return storage.Status{}, err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	mb, err := u.lookupLocked(name)
	if err != nil {
		return storage.Status{}, err
	}
	return mb.statusLocked(), nil
}

func (u *user) lookupLocked(name string) (*mailbox, error) {
	canon, _, err := u.checkName(name)
	if err != nil {
		return nil, err
	}
	mb, ok := u.boxes[canon]
	if !ok {
		return nil, notFound(name)
	}
	return mb, nil
}

func (h *userHandle) Append(ctx context.Context, name string, msg storage.AppendMessage) (storage.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.AppendResult{}, err
	}
	body, err := readCRLF(msg.Body)
	if err != nil {
		return storage.AppendResult{}, err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	mb, err := u.lookupLocked(name)
	if err != nil {
		return storage.AppendResult{}, err
	}
	flags, err := normalizeFlags(msg.Flags)
	if err != nil {
		return storage.AppendResult{}, err
	}
	flags = mb.canonKeywordsLocked(flags)
	now := u.now()
	date := msg.InternalDate
	if date.IsZero() {
		date = now
	}
	m := &message{uid: mb.uidNext, flags: flags, internalDate: date, body: body, recent: true}
	m.fields, m.fieldsErr = u.computeFields(body)
	mb.appendLocked(m, now)
	mb.notifyLocked(nil)
	return storage.AppendResult{UIDValidity: mb.uidValidity, UID: m.uid}, nil
}

func (h *userHandle) Open(ctx context.Context, name string, opts storage.OpenOptions) (storage.Mailbox, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u := h.u
	u.mu.Lock()
	defer u.mu.Unlock()
	mb, err := u.lookupLocked(name)
	if err != nil {
		return nil, err
	}
	v := &view{
		u: u, mb: mb, readOnly: opts.ReadOnly,
		notify: make(chan struct{}, 1),
		recent: make(map[uint32]bool),
	}
	mb.views[v] = struct{}{}
	v.refreshLocked()
	return v, nil
}
