package maildir

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"roost/internal/vfs"
)

const uidlistName = "dovecot-uidlist"

// uidRec is one line of dovecot-uidlist.
type uidRec struct {
	uid  uint32
	ext  []string // extension fields, e.g. "W1234", kept as read
	base string   // file name without ":2,..."
}

// uidlist is the parsed content of dovecot-uidlist (version 3, as written
// by Dovecot's maildir-uidlist.c; versions 1 is read too).
type uidlist struct {
	uidValidity uint32
	nextUID     uint32
	guid        string   // 32 hex digits
	hdrExt      []string // unknown header fields, preserved
	recs        []uidRec // ascending UID
	byBase      map[string]int
	// partial: recs and byBase hold only the records appended since
	// dropRecs; the others are in the file (box.fullUidlistLocked).
	partial bool

	// identity of the file the content was read from
	exists bool
	size   int64
	mtime  time.Time
	ino    uint64
}

func newUidlist() *uidlist { return &uidlist{nextUID: 1, byBase: map[string]int{}} }

// stamp is the identity of a file or directory used to notice changes.
type stamp struct {
	exists bool
	size   int64
	mtime  time.Time
	ino    uint64
}

func stampOf(fi fs.FileInfo) stamp {
	return stamp{exists: true, size: fi.Size(), mtime: fi.ModTime(), ino: vfs.Ino(fi)}
}

func statStamp(fsys vfs.FS, path string) (stamp, error) {
	fi, err := fsys.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return stamp{}, nil
	}
	if err != nil {
		return stamp{}, err
	}
	return stampOf(fi), nil
}

func (u *uidlist) stamp() stamp {
	return stamp{exists: u.exists, size: u.size, mtime: u.mtime, ino: u.ino}
}

// readUidlist reads the uidlist at path; a missing file gives an empty list.
func readUidlist(fsys vfs.FS, path string) (*uidlist, error) {
	u := newUidlist()
	f, err := fsys.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return u, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open uidlist: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat uidlist: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read uidlist: %w", err)
	}
	if err := u.parse(data); err != nil {
		return nil, fmt.Errorf("uidlist %s: %w", path, err)
	}
	u.exists, u.size, u.mtime, u.ino = true, int64(len(data)), fi.ModTime(), vfs.Ino(fi)
	_ = fi.Size()
	return u, nil
}

func (u *uidlist) parse(data []byte) error {
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) == 0 || len(lines[0]) == 0 {
		return nil // empty file: treat as new
	}
	version, err := u.parseHeader(string(lines[0]))
	if err != nil {
		return err
	}
	var last uint32
	for n, l := range lines[1:] {
		if len(l) == 0 {
			continue // the trailing newline, or a torn append
		}
		r, err := parseUidLine(string(l), version)
		if err != nil {
			return fmt.Errorf("line %d: %w", n+2, err)
		}
		if r.uid <= last {
			return fmt.Errorf("line %d: UIDs not ordered (%d <= %d)", n+2, r.uid, last)
		}
		last = r.uid
		if i, dup := u.byBase[r.base]; dup {
			// Dovecot keeps the later record for a duplicate file.
			u.recs = append(u.recs[:i], u.recs[i+1:]...)
			u.reindex()
		}
		u.byBase[r.base] = len(u.recs)
		u.recs = append(u.recs, r)
	}
	if last >= u.nextUID {
		u.nextUID = last + 1 // Dovecot appends lines without rewriting N
	}
	return nil
}

func (u *uidlist) parseHeader(h string) (int, error) {
	fields := strings.Fields(h)
	if len(fields) == 0 {
		return 0, errors.New("empty header")
	}
	switch fields[0] {
	case "1":
		if len(fields) < 3 {
			return 0, errors.New("broken version 1 header")
		}
		uv, err1 := strconv.ParseUint(fields[1], 10, 32)
		nu, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil {
			return 0, errors.New("broken version 1 header")
		}
		u.uidValidity, u.nextUID = uint32(uv), uint32(nu)
		return 1, nil
	case "3":
	default:
		return 0, fmt.Errorf("unsupported uidlist version %q", fields[0])
	}
	for _, f := range fields[1:] {
		val := f[1:]
		switch f[0] {
		case 'V':
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("bad UIDVALIDITY %q", val)
			}
			u.uidValidity = uint32(n)
		case 'N':
			n, err := strconv.ParseUint(val, 10, 32)
			if err != nil {
				return 0, fmt.Errorf("bad next UID %q", val)
			}
			u.nextUID = uint32(n)
		case 'G':
			u.guid = val
		default:
			u.hdrExt = append(u.hdrExt, f)
		}
	}
	if u.nextUID == 0 {
		u.nextUID = 1
	}
	return 3, nil
}

func parseUidLine(l string, version int) (uidRec, error) {
	var r uidRec
	num, rest, ok := strings.Cut(l, " ")
	if !ok {
		return r, errors.New("invalid data")
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil || n == 0 || n >= 1<<32-1 {
		return r, fmt.Errorf("invalid UID %q", num)
	}
	r.uid = uint32(n)
	if version == 3 {
		for {
			rest = strings.TrimLeft(rest, " ")
			if rest == "" || rest[0] == ':' {
				break
			}
			f, tail, _ := strings.Cut(rest, " ")
			r.ext = append(r.ext, f)
			rest = tail
		}
		rest = strings.TrimPrefix(rest, ":")
	}
	if rest == "" || strings.ContainsRune(rest, '/') {
		return r, fmt.Errorf("broken file name %q", rest)
	}
	r.base, _, _ = splitName(rest)
	return r, nil
}

func (u *uidlist) reindex() {
	u.byBase = make(map[string]int, len(u.recs))
	for i, r := range u.recs {
		u.byBase[r.base] = i
	}
}

// lookup returns the UID assigned to base, or 0.
func (u *uidlist) lookup(base string) uint32 {
	if i, ok := u.byBase[base]; ok {
		return u.recs[i].uid
	}
	return 0
}

func (u *uidlist) header() string {
	if u.guid == "" {
		var g [16]byte
		_, _ = rand.Read(g[:])
		u.guid = hex.EncodeToString(g[:])
	}
	h := fmt.Sprintf("3 V%d N%d G%s", u.uidValidity, u.nextUID, u.guid)
	for _, e := range u.hdrExt {
		h += " " + e
	}
	return h + "\n"
}

// appendRecLine appends r's line to buf.
func appendRecLine(buf []byte, r uidRec) []byte {
	buf = strconv.AppendUint(buf, uint64(r.uid), 10)
	for _, e := range r.ext {
		buf = append(buf, ' ')
		buf = append(buf, e...)
	}
	buf = append(buf, " :"...)
	buf = append(buf, r.base...)
	return append(buf, '\n')
}

// recLines is the lines of recs.
func recLines(buf []byte, recs []uidRec) []byte {
	n := 0
	for _, r := range recs {
		n += len(r.base) + 16
		for _, e := range r.ext {
			n += len(e) + 1
		}
	}
	buf = slices.Grow(buf, n)
	for _, r := range recs {
		buf = appendRecLine(buf, r)
	}
	return buf
}

// write replaces the uidlist at path with u, through a temporary file
// "dovecot-uidlist.tmp" and rename, as Dovecot does. live, if not nil,
// keeps only records whose base it reports present.
func (u *uidlist) write(fsys vfs.FS, path string, sync bool, live func(string) bool) error {
	if u.partial {
		return errors.New("write uidlist: records not loaded")
	}
	if live != nil {
		kept := u.recs[:0]
		for _, r := range u.recs {
			if live(r.base) {
				kept = append(kept, r)
			}
		}
		u.recs = kept
		u.reindex()
	}
	data := recLines([]byte(u.header()), u.recs)
	tmp := path + ".tmp"
	if err := writeFileSync(fsys, tmp, data, sync); err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	if err := fsys.Rename(tmp, path); err != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("rename uidlist: %w", err)
	}
	return u.restamp(fsys, path)
}

// appendRecs appends new records to the existing uidlist file in place,
// as Dovecot does for new messages (the header's N is left stale; readers
// take the highest UID + 1). The file must exist and match u's stamp.
func (u *uidlist) appendRecs(fsys vfs.FS, path string, recs []uidRec, sync bool) error {
	if err := u.appendFile(fsys, path, recs, sync); err != nil {
		return err
	}
	for _, r := range recs {
		u.byBase[r.base] = len(u.recs)
		u.recs = append(u.recs, r)
	}
	return u.restamp(fsys, path)
}

// appendRecsDrop appends recs to the file as appendRecs does, then drops
// every record (dropRecs): for a box that would drop them anyway after
// the sync, the records are not indexed first.
func (u *uidlist) appendRecsDrop(fsys vfs.FS, path string, recs []uidRec, sync bool) error {
	if err := u.appendFile(fsys, path, recs, sync); err != nil {
		return err
	}
	u.dropRecs()
	return u.restamp(fsys, path)
}

// appendFile appends the lines of recs to the file in place; a failed
// append is cut back so no torn line remains.
func (u *uidlist) appendFile(fsys vfs.FS, path string, recs []uidRec, sync bool) error {
	f, err := fsys.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open uidlist: %w", err)
	}
	_, err = f.Write(recLines(nil, recs))
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Cut a partial append back so no torn line remains.
		if tf, terr := fsys.OpenFile(path, os.O_WRONLY, 0); terr == nil {
			_ = tf.Truncate(u.size)
			_ = tf.Close()
		}
		return fmt.Errorf("append uidlist: %w", err)
	}
	return nil
}

func (u *uidlist) restamp(fsys vfs.FS, path string) error {
	fi, err := fsys.Stat(path)
	if err != nil {
		return fmt.Errorf("stat uidlist: %w", err)
	}
	u.exists, u.size, u.mtime, u.ino = true, fi.Size(), fi.ModTime(), vfs.Ino(fi)
	return nil
}

// uidlistKeepMax: a uidlist with more records than this drops them after a
// sync (the box's messages hold the same UIDs) and reads them again when a
// scan finds files it does not know, a rewrite or a POP3 UIDL needs them.
const uidlistKeepMax = 4096

// dropRecs forgets the records, keeping the header and the stamp.
func (u *uidlist) dropRecs() {
	u.recs, u.byBase, u.partial = nil, map[string]int{}, true
}

// sortRecs keeps recs ordered by UID.
func (u *uidlist) sortRecs() {
	sort.Slice(u.recs, func(i, j int) bool { return u.recs[i].uid < u.recs[j].uid })
	u.reindex()
}

// writeFileSync creates or truncates path with data, fsyncing if asked.
func writeFileSync(fsys vfs.FS, path string, data []byte, sync bool) error {
	f, err := fsys.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
