package maildir

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"roost/internal/vfs"
)

// TestRecentlyChanged: a directory with whole-second mtimes stays dirty
// for two seconds (Dovecot's rule, for filesystems with 1 s stamps); one
// with sub-second mtimes for dirtyWindowFine, well past a kernel tick.
func TestRecentlyChanged(t *testing.T) {
	now := time.Date(2026, 11, 22, 3, 0, 0, 500_000_000, time.UTC)
	whole := func(ago time.Duration) stamp { return stamp{exists: true, mtime: now.Add(-ago).Truncate(time.Second)} }
	fine := func(ago time.Duration) stamp { return stamp{exists: true, mtime: now.Add(-ago)} }
	for _, c := range []struct {
		st   stamp
		want bool
	}{
		{whole(0), true},
		{whole(time.Second), true},
		{whole(3 * time.Second), false},
		{fine(time.Millisecond), true},
		{fine(dirtyWindowFine - time.Millisecond), true},
		{fine(dirtyWindowFine + time.Millisecond), false},
		{fine(-time.Second), true}, // mtime ahead of our clock
	} {
		if got := recentlyChanged(now, c.st); got != c.want {
			t.Errorf("recentlyChanged(mtime %v before now) = %v, want %v", now.Sub(c.st.mtime), got, c.want)
		}
	}
}

// TestStaleOwnPid: a lock naming this process is held by another of its
// goroutines, unless it was made before the process started (a previous
// instance that had the same pid, as pid 1 in a container).
func TestStaleOwnPid(t *testing.T) {
	host := "testhost"
	lp := filepath.Join(t.TempDir(), "dovecot-uidlist.lock")
	if err := os.WriteFile(lp, []byte(strconv.Itoa(os.Getpid())+":"+host), 0o600); err != nil {
		t.Fatal(err)
	}
	now := processStart.Add(10 * time.Second) // well inside lockStaleTimeout
	if staleLock(vfs.OS{}, lp, now, host) {
		t.Errorf("a lock of this process made after it started is stale")
	}
	old := processStart.Add(-time.Second)
	if err := os.Chtimes(lp, old, old); err != nil {
		t.Fatal(err)
	}
	if !staleLock(vfs.OS{}, lp, now, host) {
		t.Errorf("a lock with this pid made before the process started is not stale")
	}
}

// TestStaleByAge: a lock unchanged for lockStaleTimeout is stale only
// when the file it protects has not changed meanwhile either.
func TestStaleByAge(t *testing.T) {
	dir := t.TempDir()
	ul := filepath.Join(dir, "dovecot-uidlist")
	lp := ul + ".lock"
	for _, f := range []string{ul, lp} {
		if err := os.WriteFile(f, nil, 0o600); err != nil { // empty: no pid to check
			t.Fatal(err)
		}
	}
	now := time.Now()
	old := now.Add(-lockStaleTimeout - time.Second)
	if err := os.Chtimes(lp, old, old); err != nil {
		t.Fatal(err)
	}
	if staleLock(vfs.OS{}, lp, now, "h") {
		t.Errorf("old lock over a file changed just now is stale")
	}
	if err := os.Chtimes(ul, old, old); err != nil {
		t.Fatal(err)
	}
	if !staleLock(vfs.OS{}, lp, now, "h") {
		t.Errorf("old lock over an old file is not stale")
	}
	if err := os.Remove(ul); err != nil {
		t.Fatal(err)
	}
	if !staleLock(vfs.OS{}, lp, now, "h") {
		t.Errorf("old lock over a missing file is not stale")
	}
}
