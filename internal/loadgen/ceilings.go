package loadgen

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Ceilings are the machine's own limits, measured by the driver so each
// figure can be read against them.
type Ceilings struct {
	FsyncPerSec       float64 // 4 KiB write + fdatasync, one file
	CreateFsyncPerSec float64 // Maildir shape: create, write 4 KiB, fsync, rename, fsync dir
	LoopbackMBps      float64 // one TCP stream over 127.0.0.1
	ConnectsPerSec    float64 // TCP connect+accept+close over 127.0.0.1
}

// measureCeilings probes dir's filesystem and the loopback, d each.
func measureCeilings(dir string, d time.Duration) (Ceilings, error) {
	var c Ceilings
	var err error
	if c.FsyncPerSec, err = fsyncRate(dir, d); err != nil {
		return c, err
	}
	if c.CreateFsyncPerSec, err = createRate(dir, d); err != nil {
		return c, err
	}
	if c.LoopbackMBps, err = loopbackRate(d); err != nil {
		return c, err
	}
	c.ConnectsPerSec, err = connectRate(d)
	return c, err
}

func fsyncRate(dir string, d time.Duration) (float64, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return 0, fmt.Errorf("fsync probe: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	n, t0 := 0, time.Now()
	for time.Since(t0) < d {
		if _, err := f.WriteAt(buf, int64(n%256)*4096); err != nil {
			return 0, fmt.Errorf("fsync probe: %w", err)
		}
		if err := f.Sync(); err != nil {
			return 0, fmt.Errorf("fsync probe: %w", err)
		}
		n++
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

func createRate(dir string, d time.Duration) (float64, error) {
	base, err := os.MkdirTemp(dir, "create-probe-")
	if err != nil {
		return 0, fmt.Errorf("create probe: %w", err)
	}
	defer os.RemoveAll(base)
	for _, s := range []string{"tmp", "new"} {
		os.Mkdir(filepath.Join(base, s), 0o700)
	}
	dirf, err := os.Open(filepath.Join(base, "new"))
	if err != nil {
		return 0, fmt.Errorf("create probe: %w", err)
	}
	defer dirf.Close()
	buf := make([]byte, 4096)
	n, t0 := 0, time.Now()
	for time.Since(t0) < d {
		name := fmt.Sprintf("m%d", n)
		tmp := filepath.Join(base, "tmp", name)
		f, err := os.Create(tmp)
		if err != nil {
			return 0, fmt.Errorf("create probe: %w", err)
		}
		f.Write(buf)
		err = f.Sync()
		f.Close()
		if err == nil {
			err = os.Rename(tmp, filepath.Join(base, "new", name))
		}
		if err == nil {
			err = dirf.Sync()
		}
		if err != nil {
			return 0, fmt.Errorf("create probe: %w", err)
		}
		n++
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}

func loopbackRate(d time.Duration) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("loopback probe: %w", err)
	}
	defer l.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		got <- n
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, fmt.Errorf("loopback probe: %w", err)
	}
	buf := make([]byte, 64<<10)
	t0 := time.Now()
	for time.Since(t0) < d {
		if _, err := c.Write(buf); err != nil {
			break
		}
	}
	c.Close()
	n := <-got
	return float64(n) / (1 << 20) / time.Since(t0).Seconds(), nil
}

func connectRate(d time.Duration) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("connect probe: %w", err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	n, t0 := 0, time.Now()
	for time.Since(t0) < d {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return 0, fmt.Errorf("connect probe: %w", err)
		}
		c.Close()
		n++
	}
	return float64(n) / time.Since(t0).Seconds(), nil
}
