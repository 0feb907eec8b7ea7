package sievestore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DupesFile is the name of the duplicate/vacation memory in the home.
const DupesFile = ".roost.lda-dupes"

// maxDupes bounds the entries kept; the ones expiring first go first.
const maxDupes = 10000

// Tracker is sieve.Tracker over a small text file in the user's home, one
// "ID EXPIRES-UNIX" line per entry, rewritten under an flock on each Mark.
// Deleting the file resets every vacation and duplicate block, as the book
// says of ~/.dovecot.lda-dupes.
type Tracker struct {
	path string
}

// NewTracker returns the tracker of the user whose home is home.
func NewTracker(home string) *Tracker {
	return &Tracker{path: filepath.Join(home, DupesFile)}
}

// Seen implements sieve.Tracker.
func (t *Tracker) Seen(_ context.Context, id string, now time.Time) (bool, error) {
	m, err := t.read()
	if err != nil {
		return false, err
	}
	exp, ok := m[id]
	return ok && now.Unix() < exp, nil
}

// Mark implements sieve.Tracker.
func (t *Tracker) Mark(_ context.Context, id string, expires time.Time) error {
	if strings.ContainsAny(id, " \n") {
		return fmt.Errorf("duplicate id %q: contains a space", id)
	}
	unlock, err := t.lock()
	if err != nil {
		return err
	}
	defer unlock()
	m, err := t.read()
	if err != nil {
		return err
	}
	now := time.Now().Unix()
	for k, v := range m {
		if v <= now {
			delete(m, k)
		}
	}
	m[id] = expires.Unix()
	return t.write(m)
}

func (t *Tracker) lock() (func(), error) {
	f, err := os.OpenFile(t.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", t.path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", t.path, err)
	}
	return func() { f.Close() }, nil
}

func (t *Tracker) read() (map[string]int64, error) {
	m := map[string]int64{}
	b, err := os.ReadFile(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		id, exp, ok := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(exp, 10, 64)
		if ok && err == nil {
			m[id] = n
		}
	}
	return m, nil
}

func (t *Tracker) write(m map[string]int64) error {
	for len(m) > maxDupes {
		var oldest string
		for k, v := range m {
			if oldest == "" || v < m[oldest] {
				oldest = k
			}
		}
		delete(m, oldest)
	}
	var b strings.Builder
	for k, v := range m {
		fmt.Fprintf(&b, "%s %d\n", k, v)
	}
	tmp := t.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	if err := os.Rename(tmp, t.path); err != nil {
		return fmt.Errorf("write %s: %w", t.path, err)
	}
	return nil
}
