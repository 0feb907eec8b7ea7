package maildir

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// attrDictName is the attribute dict's file name in the INBOX namespace's
// mail root: where Dovecot's usual `mail_attribute_dict =
// file:%h/Maildir/dovecot-attributes` puts it.
const attrDictName = "dovecot-attributes"

// Limits of the attribute dict file, which is read whole.
const maxAttrDictSize = 64 << 20

// attrDict is the content of a Dovecot file dict (dict-file.c): lines in
// pairs, key then value, each with Dovecot's tab escaping (escapeDict).
// The order of the file is kept; new keys go at the end.
type attrDict struct {
	keys []string
	vals map[string]string
}

func parseAttrDict(data []byte) (*attrDict, error) {
	d := &attrDict{vals: map[string]string{}}
	if len(data) == 0 {
		return d, nil
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines)%2 != 0 {
		// Dovecot ignores a key without a value; so do we.
		lines = lines[:len(lines)-1]
	}
	for i := 0; i < len(lines); i += 2 {
		d.set(unescapeDict(lines[i]), unescapeDict(lines[i+1]))
	}
	return d, nil
}

func (d *attrDict) set(k, v string) {
	if _, ok := d.vals[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.vals[k] = v
}

func (d *attrDict) unset(k string) {
	if _, ok := d.vals[k]; !ok {
		return
	}
	delete(d.vals, k)
	for i, x := range d.keys {
		if x == k {
			d.keys = append(d.keys[:i], d.keys[i+1:]...)
			break
		}
	}
}

// dropPrefix removes every key starting with prefix; it reports whether
// anything was removed.
func (d *attrDict) dropPrefix(prefix string) bool {
	kept := d.keys[:0]
	for _, k := range d.keys {
		if strings.HasPrefix(k, prefix) {
			delete(d.vals, k)
			continue
		}
		kept = append(kept, k)
	}
	changed := len(kept) != len(d.keys)
	d.keys = kept
	return changed
}

func (d *attrDict) bytes() []byte {
	var b bytes.Buffer
	for _, k := range d.keys {
		b.WriteString(escapeDict(k))
		b.WriteByte('\n')
		b.WriteString(escapeDict(d.vals[k]))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// escapeDict is Dovecot's str_append_tabescaped: \001 -> \0011, TAB ->
// \001t, CR -> \001r, LF -> \001n.
func escapeDict(s string) string {
	if !strings.ContainsAny(s, "\x01\t\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 1:
			b.WriteString("\x011")
		case '\t':
			b.WriteString("\x01t")
		case '\r':
			b.WriteString("\x01r")
		case '\n':
			b.WriteString("\x01n")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// unescapeDict reverses escapeDict; an unknown escape keeps the byte after
// \001, as Dovecot's str_tabunescape does.
func unescapeDict(s string) string {
	if !strings.Contains(s, "\x01") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != 1 || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '1':
			b.WriteByte(1)
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// attrDictPath is the user's attribute dict file.
func (u *user) attrDictPath() string {
	if p := u.cfg.Metadata.Dict; p != "" {
		return p
	}
	for _, ns := range u.nss {
		if ns.cfg.Inbox {
			return filepath.Join(ns.loc.root, attrDictName)
		}
	}
	return filepath.Join(u.nss[0].loc.root, attrDictName)
}

// readAttrDict reads the dict; a missing file is an empty dict.
func readAttrDict(fsys vfs.FS, path string) (*attrDict, error) {
	data, err := readFileLimit(fsys, path, maxAttrDictSize)
	if err != nil {
		if isNotExist(err) {
			return parseAttrDict(nil)
		}
		return nil, storage.Wrap(storage.KindInternal, "Internal error reading attributes", err)
	}
	return parseAttrDict(data)
}

// updateAttrDict reads the dict under Dovecot's dotlock ("<path>.lock"),
// lets edit change it and, when edit reports a change, replaces the file
// through "<path>.tmp" and rename.
func (u *user) updateAttrDict(ctx context.Context, edit func(*attrDict) (bool, error)) error {
	path := u.attrDictPath()
	if err := u.d.fs.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return osError("create attribute dict directory", err)
	}
	lock, err := lockFile(ctx, u.lockOpts(u.d.now), path)
	if err != nil {
		return lockError(err)
	}
	defer lock.unlock()
	d, err := readAttrDict(u.d.fs, path)
	if err != nil {
		return err
	}
	changed, err := edit(d)
	if err != nil || !changed {
		return err
	}
	tmp := path + ".tmp"
	if err := writeFileSync(u.d.fs, tmp, d.bytes(), u.fsyncFiles()); err != nil {
		_ = u.d.fs.Remove(tmp)
		return osError("write attributes", err)
	}
	if err := u.d.fs.Rename(tmp, path); err != nil {
		_ = u.d.fs.Remove(tmp)
		return osError("write attributes", fmt.Errorf("rename: %w", err))
	}
	return nil
}
