// Package server is the composition root: it turns a settings snapshot
// into concrete drivers (Maildir storage, passwd-file and static auth),
// the login policy and the protocol servers, binds the listeners, drops
// privileges and runs until told to stop.
//
// Reload (SIGHUP) builds a new stack from a new snapshot; new connections
// use it, connections already open keep the stack they started with
// (DESIGN.md section 2). Listener changes need a restart, as with Dovecot.
// SIGTERM (context cancellation) stops accepting, lets commands in flight
// finish, says "* BYE" and exits.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"roost/internal/logging"
	"roost/internal/service"
	"roost/internal/settings"
)

// shutdownGrace bounds how long SIGTERM waits for commands in flight.
const shutdownGrace = 10 * time.Second

// Options configures Run.
type Options struct {
	ConfigPath string
	// Stderr receives configuration warnings before logging is set up.
	Stderr io.Writer
	// Ready, if set, is called once the listeners are bound and
	// privileges dropped, with their addresses.
	Ready func(addrs []net.Addr)
	// Reload, if set, triggers a reload like SIGHUP does.
	Reload <-chan struct{}
}

// Run serves the configuration at opts.ConfigPath until ctx ends.
func Run(ctx context.Context, opts Options) error {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	snap, err := load(opts.ConfigPath, opts.Stderr, settings.Options{})
	if err != nil {
		return err
	}
	p, err := newPlan(snap)
	if err != nil {
		return err
	}
	proc := newProcess()
	defer proc.close()
	st, err := newStack(p, proc)
	if err != nil {
		return err
	}
	bound, err := p.listen()
	if err != nil {
		return err
	}
	pidPath, err := writePID(p.global.BaseDir)
	if err != nil {
		closeBound(bound)
		return err
	}
	defer os.Remove(pidPath)
	if err := p.dropPrivileges(st.log); err != nil {
		closeBound(bound)
		return err
	}
	r := &runner{log: st.log.With("master"), proc: proc, all: []*stack{st}}
	r.cur.Store(st)
	var addrs []net.Addr
	for _, b := range bound {
		addrs = append(addrs, b.Addr())
		r.wg.Add(1)
		go r.accept(b)
	}
	r.log.Infof("roost %s starting up for %s", Version, joinProtocols(p))
	if opts.Ready != nil {
		opts.Ready(addrs)
	}
	pollCtx, stopPoll := context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.poll(pollCtx)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			closeBound(bound)
			r.shutdown()
			stopPoll()
			r.wg.Wait()
			r.log.Infof("roost %s shutting down", Version)
			return nil
		case <-hup:
			r.reload(opts.ConfigPath, p)
		case <-opts.Reload:
			r.reload(opts.ConfigPath, p)
		}
	}
}

// Version is the version roost reports.
const Version = "0.1"

func joinProtocols(p *plan) string {
	s := ""
	for i, pr := range p.global.Protocols {
		if i > 0 {
			s += " "
		}
		s += pr
	}
	return s
}

// pollInterval is how often the one poller looks for changes that other
// processes made to mailboxes with open views (Postfix or a Dovecot
// process writing into new/), to wake IDLE sessions. Changes made through
// roost itself are announced at once by the in-process tracker.
const pollInterval = time.Second

// runner owns the accept loops, the storage poller and every stack still
// serving connections.
type runner struct {
	log  *logging.Logger
	proc *process
	cur  atomic.Pointer[stack]
	wg   sync.WaitGroup

	mu  sync.Mutex // guards all
	all []*stack
}

// accept hands each connection of b to the current stack.
func (r *runner) accept(b service.Bound) {
	defer r.wg.Done()
	for delay := time.Duration(0); ; {
		c, err := b.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as net/http.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			r.log.Errorf("accept(%s): %v", b.Addr(), err)
			time.Sleep(delay)
			continue
		}
		delay = 0
		// A stack retired by a reload may close between Load and serve;
		// the current one is then newer.
		for !r.cur.Load().serve(c, b) {
		}
	}
}

// poll runs the storage driver's change check until ctx ends.
func (r *runner) poll(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	trim := newMemTrimmer()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.proc.drv.Poll(ctx)
			trim.check()
		}
	}
}

// reload builds a new stack from the configuration file. Listener changes
// are reported, not applied.
func (r *runner) reload(path string, old *plan) {
	r.log.Infof("SIGHUP received - reloading configuration")
	snap, err := load(path, nil, settings.Options{})
	if err == nil {
		var p *plan
		if p, err = newPlan(snap); err == nil {
			if !p.sameListeners(old) {
				r.log.Warnf("listener changes need a restart; keeping the current listeners")
			}
			var st *stack
			if st, err = newStack(p, r.proc); err == nil {
				for _, w := range snap.Warnings() {
					st.log.Warnf("%s", w)
				}
				r.mu.Lock()
				r.all = slices.DeleteFunc(r.all, (*stack).isClosed)
				r.all = append(r.all, st)
				r.mu.Unlock()
				r.cur.Swap(st).retire()
				return
			}
		}
	}
	r.log.Errorf("reload failed, keeping the old configuration: %v", err)
}

// shutdown asks every stack's servers to finish and waits for them.
func (r *runner) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	r.mu.Lock()
	all := append([]*stack(nil), r.all...)
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, st := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.shutdown(ctx)
		}()
	}
	wg.Wait()
}

func closeBound(bs []service.Bound) {
	for _, b := range bs {
		b.Close()
	}
}

// writePID creates base_dir and writes master.pid in it.
func writePID(baseDir string) (string, error) {
	if err := os.MkdirAll(baseDir, 0o755); err != nil {
		return "", &ConfigError{Err: fmt.Errorf("base_dir: %w", err)}
	}
	path := filepath.Join(baseDir, "master.pid")
	if b, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(string(trimNL(b))); err == nil && pid > 0 && syscall.Kill(pid, 0) == nil && pid != os.Getpid() {
			return "", fmt.Errorf("roost is already running with PID %d (read from file %s)", pid, path)
		}
	}
	if err := writeFileAtomic(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// tlsListener reports whether connections of b start with a TLS handshake.
func tlsListener(b service.Bound) bool { return b.Inet != nil && b.Inet.SSL }
