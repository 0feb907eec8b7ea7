package server

import (
	"runtime/debug"
	"runtime/metrics"
)

// memTrimmer hands the Go heap's spare pages back to the kernel once a
// burst of allocation is over. Loading a large mailbox or filling its
// field cache allocates hundreds of megabytes that die at once; the
// runtime keeps the heap at its last goal (twice the live data at the
// last collection) and returns pages only as later collections lower it,
// so a server that went quiet after such a burst held ~100 MB for a
// 30 MB live heap (bigbox, docs/PERFORMANCE.md). Checked once per poll
// interval: when almost nothing was allocated since the last check and
// the spare heap (free pages plus garbage) is large, one forced
// collection returns it. Under steady load nothing happens.
type memTrimmer struct {
	samples   []metrics.Sample
	lastAlloc uint64
}

const (
	trimSpare = 32 << 20 // spare heap bytes worth a trim
	trimQuiet = 1 << 20  // bytes allocated between checks that still count as quiet
)

func newMemTrimmer() *memTrimmer {
	m := &memTrimmer{samples: []metrics.Sample{
		{Name: "/gc/heap/allocs:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/gc/heap/live:bytes"},
	}}
	metrics.Read(m.samples)
	m.lastAlloc = m.samples[0].Value.Uint64()
	return m
}

// check trims when the heap is quiet and has enough spare; it reports
// whether it did.
func (m *memTrimmer) check() bool {
	metrics.Read(m.samples)
	allocs := m.samples[0].Value.Uint64()
	quiet := allocs-m.lastAlloc < trimQuiet
	m.lastAlloc = allocs
	if !shouldTrim(quiet, m.samples[1].Value.Uint64(), m.samples[2].Value.Uint64(), m.samples[3].Value.Uint64()) {
		return false
	}
	debug.FreeOSMemory()
	metrics.Read(m.samples[:1])
	m.lastAlloc = m.samples[0].Value.Uint64()
	return true
}

// shouldTrim decides from the heap's objects (live and garbage), its
// free pages and the live bytes at the last collection.
func shouldTrim(quiet bool, objects, free, live uint64) bool {
	garbage := objects - min(objects, live)
	return quiet && free+garbage >= trimSpare
}
