package loadgen

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// ProcUsage is memory and CPU of a process tree, from /proc.
type ProcUsage struct {
	Procs int
	RSS   int64 // bytes, summed (shared pages counted in every process)
	PSS   int64 // bytes, proportional set size (shared pages split)
	CPU   time.Duration
}

// procTree returns root and all its descendants.
func procTree(root int) []int {
	ents, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp := ppid(pid); pp > 0 {
			children[pp] = append(children[pp], pid)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// statFields returns the fields of /proc/PID/stat after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

func ppid(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// usage reads memory and CPU for the tree under root. CPU includes the
// reaped children of every process (cutime, cstime), so exited Dovecot
// workers still count.
func usage(root int) ProcUsage {
	var u ProcUsage
	for _, pid := range procTree(root) {
		rss, pss, ok := smapsRollup(pid)
		if !ok {
			continue
		}
		u.Procs++
		u.RSS += rss
		u.PSS += pss
		if f := statFields(pid); len(f) >= 15 {
			var ticks int64
			for _, s := range f[11:15] { // utime stime cutime cstime
				n, _ := strconv.ParseInt(s, 10, 64)
				ticks += n
			}
			u.CPU += time.Duration(ticks) * time.Second / clockTicks
		}
	}
	return u
}

// smapsRollup returns Rss and Pss in bytes.
func smapsRollup(pid int) (int64, int64, bool) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	var rss, pss int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(fs[1], 10, 64)
		switch fs[0] {
		case "Rss:":
			rss = n << 10
		case "Pss:":
			pss = n << 10
		}
	}
	return rss, pss, true
}

// sampler polls a process tree's memory during a run and keeps the peak.
type sampler struct {
	root  int
	stop  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex // guards peak
	peak  ProcUsage
	start ProcUsage
}

func startSampler(root int) *sampler {
	s := &sampler{root: root, stop: make(chan struct{}), start: usage(root)}
	s.peak = s.start
	s.wg.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.note(usage(s.root))
			}
		}
	})
	return s
}

func (s *sampler) note(u ProcUsage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.PSS > s.peak.PSS {
		s.peak.PSS = u.PSS
	}
	if u.RSS > s.peak.RSS {
		s.peak.RSS = u.RSS
	}
	s.peak.Procs = max(s.peak.Procs, u.Procs)
}

// finish stops sampling and returns the peak memory and the CPU used
// since the start.
func (s *sampler) finish() ProcUsage {
	end := usage(s.root)
	close(s.stop)
	s.wg.Wait()
	s.note(end)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peak
	p.CPU = end.CPU - s.start.CPU
	return p
}
