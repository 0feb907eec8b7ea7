package maildir

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// Mailbox attributes (METADATA, RFC 5464) live in one Dovecot file dict per
// user (attrdict.go), keyed as Dovecot 2.3 keys them:
//
//	priv/<mailbox GUID>/<entry below /private/>
//	shared/<mailbox GUID>/<entry below /shared/>
//
// with the mailbox GUID of dovecot-uidlist's header. Server entries are
// INBOX attributes below serverAttrPrefix. CREATE's special-use flags are
// the mailbox's "specialuse" private attribute, as Dovecot 2.3 reports
// configured ones. A renamed mailbox keeps its dovecot-uidlist and so its
// entries; Delete drops them.

var _ storage.MetadataStore = (*user)(nil)

// serverAttrPrefix is where Dovecot keeps server entries inside INBOX's
// attributes (MAILBOX_ATTRIBUTE_PREFIX_DOVECOT_PVT_SERVER).
const serverAttrPrefix = "vendor/vendor.dovecot/pvt/server/"

// specialUseAttr is the attribute key (below priv/<guid>/) of a mailbox's
// special-use flags, space separated.
const specialUseAttr = "specialuse"

// attrKey maps an entry name of a mailbox with the given GUID to its dict
// key; server entries are INBOX's with serverAttrPrefix.
func attrKey(guid, name string, server bool) string {
	scope, rest := "priv", strings.TrimPrefix(name, "/private")
	if strings.HasPrefix(name, "/shared") {
		scope, rest = "shared", strings.TrimPrefix(name, "/shared")
	}
	rest = strings.TrimPrefix(rest, "/")
	if server {
		rest = serverAttrPrefix + rest
	}
	return scope + "/" + guid + "/" + rest
}

// entryName maps a dict key below prefix ("priv/<guid>/" or
// "shared/<guid>/", plus serverAttrPrefix for server entries) back to its
// entry name.
func entryName(scope, rest string) string {
	name := "/private"
	if scope == "shared" {
		name = "/shared"
	}
	if rest != "" {
		name += "/" + rest
	}
	return name
}

// GetMetadata returns the entries of mailbox ("" = server), sorted.
func (u *user) GetMetadata(ctx context.Context, mailbox string) ([]storage.MetadataEntry, error) {
	server := mailbox == ""
	guid, m, err := u.attrTarget(ctx, mailbox)
	if err != nil {
		return nil, err
	}
	d, err := readAttrDict(u.d.fs, u.attrDictPath())
	if err != nil {
		return nil, err
	}
	got := map[string][]byte{}
	if c := u.configuredComment(m); c != "" && !server {
		got[storage.MetadataComment] = []byte(c) // a stored comment overrides it
	}
	for _, scope := range []string{"priv", "shared"} {
		prefix := scope + "/" + guid + "/"
		if server {
			prefix += serverAttrPrefix
		}
		for _, k := range d.keys {
			rest, ok := strings.CutPrefix(k, prefix)
			if !ok || !server && m.isInbox() && strings.HasPrefix(rest, serverAttrPrefix) {
				continue
			}
			got[entryName(scope, rest)] = []byte(d.vals[k])
		}
	}
	if server {
		for _, e := range u.cfg.Metadata.ServerMetadata() {
			got[e.Name] = e.Value
		}
	} else if su := u.specialUseOf(m); len(su) > 0 {
		got[storage.MetadataSpecialUse] = []byte(strings.Join(su, " "))
	}
	return sortedEntries(got), nil
}

func sortedEntries(got map[string][]byte) []storage.MetadataEntry {
	out := make([]storage.MetadataEntry, 0, len(got))
	for name, v := range got {
		out = append(out, storage.MetadataEntry{Name: name, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SetMetadata sets and removes entries of mailbox ("" = server) in one
// rewrite of the dict.
func (u *user) SetMetadata(ctx context.Context, mailbox string, entries []storage.MetadataEntry) error {
	server := mailbox == ""
	guid, _, err := u.attrTarget(ctx, mailbox)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if storage.MetadataComputed(mailbox, e.Name) {
			return storage.ReadOnlyMetadata(mailbox, e.Name)
		}
	}
	return u.updateAttrDict(ctx, func(d *attrDict) (bool, error) {
		for _, e := range entries {
			k := attrKey(guid, e.Name, server)
			if e.Value == nil {
				d.unset(k)
			} else {
				d.set(k, string(e.Value))
			}
		}
		return true, nil
	})
}

// attrTarget returns the GUID whose attributes hold mailbox's entries:
// INBOX's for the server ("").
func (u *user) attrTarget(ctx context.Context, mailbox string) (string, mbox, error) {
	if mailbox == "" {
		mailbox = "INBOX"
	}
	m, err := u.resolve(mailbox)
	if err != nil {
		return "", m, err
	}
	if ok, err := u.exists(m); err != nil {
		return "", m, err
	} else if !ok {
		return "", m, storage.Errorf(storage.KindNotFound, "Mailbox doesn't exist: %s", m.full)
	}
	guid, err := u.mailboxGUID(ctx, m)
	return guid, m, err
}

// mailboxGUID returns the GUID in m's dovecot-uidlist header, writing
// the uidlist (with a new GUID) when it has none.
func (u *user) mailboxGUID(ctx context.Context, m mbox) (string, error) {
	p := u.paths(m)
	if g := uidlistGUID(u.d.fs, filepath.Join(p.control, uidlistName)); g != "" {
		return g, nil
	}
	b, _, err := u.openBox(ctx, m.full)
	if err != nil {
		return "", err
	}
	defer u.d.release(b)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.refreshLocked(ctx); err != nil {
		return "", err
	}
	if b.ul.guid == "" {
		if err := b.rewriteUidlistLocked(ctx); err != nil {
			return "", err
		}
	}
	return b.ul.guid, nil
}

// rewriteUidlistLocked rewrites dovecot-uidlist as it is, which gives it
// a GUID if it had none.
func (b *box) rewriteUidlistLocked(ctx context.Context) error {
	ulPath := filepath.Join(b.p.control, uidlistName)
	lock, err := lockFile(ctx, b.lockOpts(), ulPath)
	if err != nil {
		return lockError(err)
	}
	defer lock.unlock()
	if err := b.rereadUidlistLocked(ulPath); err != nil {
		return err
	}
	if b.ul.guid != "" {
		return nil
	}
	if err := b.fullUidlistLocked(); err != nil {
		return err
	}
	if err := b.ul.write(b.d.fs, ulPath, b.fsyncOn(), nil); err != nil {
		return osError("write dovecot-uidlist", err)
	}
	return nil
}

// uidlistGUID reads the G field of a dovecot-uidlist header, "" if the
// file or the field is missing.
func uidlistGUID(fsys vfs.FS, path string) string {
	f, err := fsys.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, err := bufio.NewReaderSize(f, 256).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || fields[0] != "3" {
		return ""
	}
	for _, fld := range fields[1:] {
		if g, ok := strings.CutPrefix(fld, "G"); ok && len(g) == 32 {
			return g
		}
	}
	return ""
}

// dropAttributes removes every attribute of the mailbox with the given
// GUID (after Delete).
func (u *user) dropAttributes(ctx context.Context, guid string) error {
	if guid == "" {
		return nil
	}
	if _, err := u.d.fs.Stat(u.attrDictPath()); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return u.updateAttrDict(ctx, func(d *attrDict) (bool, error) {
		a := d.dropPrefix("priv/" + guid + "/")
		b := d.dropPrefix("shared/" + guid + "/")
		return a || b, nil
	})
}

// storeSpecialUse keeps special-use flags given to CREATE (RFC 6154
// section 3) as the new mailbox's specialuse attribute.
func (u *user) storeSpecialUse(ctx context.Context, m mbox, use []string) error {
	guid, err := u.mailboxGUID(ctx, m)
	if err != nil {
		return err
	}
	return u.updateAttrDict(ctx, func(d *attrDict) (bool, error) {
		d.set("priv/"+guid+"/"+specialUseAttr, strings.Join(use, " "))
		return true, nil
	})
}

// storedSpecialUses maps mailbox GUIDs to the special-use flags stored
// for them; nil when there are none (or the dict cannot be read: LIST
// then shows configured flags only).
func (u *user) storedSpecialUses() map[string][]string {
	d, err := readAttrDict(u.d.fs, u.attrDictPath())
	if err != nil {
		return nil
	}
	var out map[string][]string
	for _, k := range d.keys {
		rest, ok := strings.CutPrefix(k, "priv/")
		guid, attr, ok2 := strings.Cut(rest, "/")
		if !ok || !ok2 || attr != specialUseAttr {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[guid] = strings.Fields(d.vals[k])
	}
	return out
}

// listSpecialUse is m's special-use flags for LIST: configured ones, else
// those stored by CREATE (stored, from storedSpecialUses).
func (u *user) listSpecialUse(m mbox, stored map[string][]string) []string {
	if su := u.specialUseOf(m); len(su) > 0 || len(stored) == 0 {
		return su
	}
	g := uidlistGUID(u.d.fs, filepath.Join(u.paths(m).control, uidlistName))
	if g == "" {
		return nil
	}
	return slices.Clone(stored[g])
}

// configuredComment is the comment setting of m's mailbox section.
func (u *user) configuredComment(m mbox) string {
	rel := strings.Join(m.levels, m.ns.sep)
	for _, mc := range m.ns.cfg.Mailboxes {
		if mc.Name == rel || (m.isInbox() && strings.EqualFold(mc.Name, "INBOX")) {
			return mc.Comment
		}
	}
	return ""
}

// readFileLimit reads a whole file of at most limit bytes.
func readFileLimit(fsys vfs.FS, path string, limit int64) ([]byte, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}
