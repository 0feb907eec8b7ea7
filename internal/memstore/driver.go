package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"roost/internal/storage"
)

// Options configures a Driver.
type Options struct {
	// Separator is the hierarchy separator of the default namespace used
	// when UserConfig.Namespaces is empty. Default "/".
	Separator string
}

// Driver is an in-memory storage.Driver. The zero value is not usable; call
// New.
type Driver struct {
	sep string

	mu    sync.Mutex // guards following
	users map[string]*user
}

var _ storage.Driver = (*Driver)(nil)

// New returns an empty in-memory driver.
func New(opts Options) *Driver {
	sep := opts.Separator
	if sep == "" {
		sep = "/"
	}
	return &Driver{sep: sep, users: make(map[string]*user)}
}

// OpenUser returns a session handle on cfg.Username's mail, creating the
// user (with INBOX and the configured auto mailboxes) on first use.
func (d *Driver) OpenUser(ctx context.Context, cfg storage.UserConfig) (storage.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Username == "" {
		return nil, storage.Errorf(storage.KindParams, "Empty username")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.users[cfg.Username]
	if !ok {
		var err error
		if u, err = newUser(cfg, d.sep); err != nil {
			return nil, fmt.Errorf("open user %q: %w", cfg.Username, err)
		}
		d.users[cfg.Username] = u
	}
	u.mu.Lock()
	if cfg.Fields != nil {
		u.fields = cfg.Fields
	}
	if cfg.Now != nil {
		u.now = cfg.Now
	}
	u.mu.Unlock()
	return feedHandle{&userHandle{u: u}}, nil
}

// user is one user's mail, shared by every session of that user.
type user struct {
	name string
	nss  []namespace

	mu          sync.Mutex // guards following
	fields      storage.FieldFunc
	now         func() time.Time
	lastValid   uint32
	boxes       map[string]*mailbox // by canonical full name
	subscribed  map[string]bool
	specialUses map[string][]string // from configuration, by full name
	meta        metadata            // METADATA entries (metadata.go)
	feed        storage.ChangeHub   // change feed (feed.go)
}

func newUser(cfg storage.UserConfig, sep string) (*user, error) {
	u := &user{
		name:        cfg.Username,
		fields:      cfg.Fields,
		now:         cfg.Now,
		boxes:       make(map[string]*mailbox),
		subscribed:  make(map[string]bool),
		specialUses: make(map[string][]string),
		meta:        metadata{cfg: cfg.Metadata},
	}
	if u.now == nil {
		u.now = time.Now
	}
	u.nss = namespacesOf(cfg.Namespaces, sep)
	for _, ns := range u.nss {
		if ns.Inbox {
			u.createLocked("INBOX", nil)
		}
		for _, mc := range ns.mailboxes {
			full := u.canonical(ns.Prefix + mc.Name)
			if len(mc.SpecialUse) > 0 {
				u.specialUses[full] = mc.SpecialUse
			}
			u.meta.addComment(full, mc.Comment)
			switch mc.Auto {
			case "create", "subscribe":
				if _, ok := u.boxes[full]; !ok {
					u.createLocked(full, nil)
				}
				if mc.Auto == "subscribe" {
					u.subscribed[full] = true
				}
			}
		}
	}
	return u, nil
}

// nextUIDValidityLocked returns a UIDVALIDITY larger than every one handed
// out before, based on the clock so that it is deterministic under test.
func (u *user) nextUIDValidityLocked() uint32 {
	v := uint32(u.now().Unix())
	if v <= u.lastValid {
		v = u.lastValid + 1
	}
	u.lastValid = v
	return v
}

func (u *user) createLocked(name string, specialUse []string) *mailbox {
	mb := &mailbox{
		name:        name,
		uidValidity: u.nextUIDValidityLocked(),
		uidNext:     1,
		modSeq:      1,
		specialUse:  specialUse,
		views:       make(map[*view]struct{}),
		feed:        &u.feed,
	}
	u.boxes[name] = mb
	return mb
}

// notFound is Dovecot's wording for a missing mailbox.
func notFound(name string) error {
	return storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", name)
}
