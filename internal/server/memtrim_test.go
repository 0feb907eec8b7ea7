package server

import (
	"runtime"
	"runtime/metrics"
	"testing"
)

func TestShouldTrim(t *testing.T) {
	t.Parallel()
	const mb = 1 << 20
	for _, c := range []struct {
		quiet               bool
		objects, free, live uint64
		want                bool
	}{
		{true, 40 * mb, 60 * mb, 40 * mb, true},    // free pages after a burst
		{true, 100 * mb, 0, 30 * mb, true},         // garbage not yet collected
		{false, 100 * mb, 60 * mb, 30 * mb, false}, // still allocating
		{true, 12 * mb, 8 * mb, 10 * mb, false},    // too little to bother
		{true, 10 * mb, 0, 20 * mb, false},         // objects below the last live figure
	} {
		if got := shouldTrim(c.quiet, c.objects, c.free, c.live); got != c.want {
			t.Errorf("shouldTrim(%v, %d, %d, %d) = %v, want %v", c.quiet, c.objects/mb, c.free/mb, c.live/mb, got, c.want)
		}
	}
}

// TestMemTrimmerReturnsBurst: after 64 MB allocated and dropped, a check
// in a quiet moment returns the pages to the kernel (the released bytes
// grow), and the next check finds nothing to do. Not parallel: other
// tests' allocations would make the moment not quiet.
func TestMemTrimmerReturnsBurst(t *testing.T) {
	released := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/released:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	m := newMemTrimmer()
	burst := make([][]byte, 64)
	for i := range burst {
		burst[i] = make([]byte, 1<<20)
	}
	runtime.KeepAlive(burst)
	burst = nil
	runtime.GC()
	before := released()
	trimmed := false
	for range 3 { // a background allocation may spoil one quiet check
		m.check() // takes the allocation baseline after the burst
		if trimmed = m.check(); trimmed {
			break
		}
	}
	if !trimmed {
		t.Fatal("no trim after a 64 MB burst")
	}
	if after := released(); after < before+32<<20 {
		t.Errorf("released %d MB after the trim, want at least 32 MB more than %d MB", after>>20, before>>20)
	}
	if m.check() {
		t.Error("a second check trimmed again")
	}
}
