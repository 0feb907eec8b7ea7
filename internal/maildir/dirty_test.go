package maildir

import (
	"testing"
	"time"
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
