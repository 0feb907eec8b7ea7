package maildir

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"roost/internal/vfs"
)

const uidvalidityName = "dovecot-uidvalidity"

// nextUIDValidity returns a UIDVALIDITY for a new mailbox that no earlier
// mailbox of this mail root had, as Dovecot's mailbox-uidvalidity.c: the
// last value is kept in dovecot-uidvalidity (8 hex digits) and marked by
// an empty file dovecot-uidvalidity.<hex>; the next value is
// max(last+1, now). Failing to use the file falls back to the clock.
func nextUIDValidity(fsys vfs.FS, dir string, now time.Time) uint32 {
	path := filepath.Join(dir, uidvalidityName)
	last := lastUIDValidity(fsys, dir, path)
	next := uint32(now.Unix())
	if next <= last {
		next = last + 1
	}
	for i := 0; i < 100; i++ {
		marker := fmt.Sprintf("%s.%08x", path, next)
		f, err := fsys.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			_ = f.Close()
			if last != 0 {
				_ = fsys.Remove(fmt.Sprintf("%s.%08x", path, last))
			}
			_ = writeFileSync(fsys, path, []byte(fmt.Sprintf("%08x", next)), false)
			return next
		}
		if !os.IsExist(err) {
			break
		}
		next++
	}
	return next
}

func lastUIDValidity(fsys vfs.FS, dir, path string) uint32 {
	var last uint32
	if f, err := fsys.Open(path); err == nil {
		buf := make([]byte, 16)
		n, _ := f.Read(buf)
		_ = f.Close()
		if v, err := strconv.ParseUint(strings.TrimSpace(string(buf[:n])), 16, 32); err == nil {
			last = uint32(v)
		}
	}
	names, err := fsys.ReadDirNames(dir)
	if err != nil {
		return last
	}
	for _, n := range names {
		if hex, ok := strings.CutPrefix(n, uidvalidityName+"."); ok {
			if v, err := strconv.ParseUint(hex, 16, 32); err == nil && uint32(v) > last {
				last = uint32(v)
			}
		}
	}
	return last
}
