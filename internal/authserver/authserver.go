package authserver

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"roost/internal/auth"
	"roost/internal/authproto"
	"roost/internal/sasl"
)

// MaxPending bounds the exchanges in progress on one auth-client
// connection.
const MaxPending = 64

// Request describes one AUTH request's client, from its parameters.
type Request struct {
	Service         string
	Local, Remote   netip.AddrPort
	Secured         bool // "secured": TLS or a trusted connection
	ValidClientCert bool
	CertUser        string // cert_username
	SessionID       string
	LocalName       string
	NoPenalty       bool
}

// Failure is an authentication that did not succeed; Temp marks a
// temporary failure ("FAIL id temp"), Reason is shown to the client.
type Failure struct {
	Temp   bool
	Reason string
	User   string
	Err    error // for the log
}

func (f *Failure) Error() string {
	s := "authentication failed"
	if f.Temp {
		s = "temporary authentication failure"
	}
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

func (f *Failure) Unwrap() error { return f.Err }

// Exchange is one SASL exchange in progress.
type Exchange interface {
	// Next returns the next challenge, or the user name when the exchange
	// succeeded; errors should be *Failure.
	Next(ctx context.Context, resp []byte) (challenge []byte, user string, err error)
}

// Authenticator runs SASL exchanges (login.Service behind an adapter).
type Authenticator interface {
	Mechanisms() []sasl.Info
	Begin(ctx context.Context, r Request, mech string) (Exchange, error)
}

// Options configure a Server.
type Options struct {
	SASL Authenticator
	// Auth answers auth-master lookups and iteration.
	Auth   *auth.Auth
	Logger *slog.Logger
	// Rand feeds the connection cookie (crypto/rand when nil).
	Rand io.Reader
}

// Server serves auth sockets; it is safe for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	cuid    atomic.Uint32
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closing atomic.Bool

	mu    sync.Mutex // guards conns
	conns map[net.Conn]struct{}
}

// New validates opts.
func New(opts Options) (*Server, error) {
	if opts.SASL == nil || opts.Auth == nil {
		return nil, errors.New("authserver: SASL and Auth are required")
	}
	s := &Server{opts: opts, log: opts.Logger, conns: map[net.Conn]struct{}{}}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.opts.Rand == nil {
		s.opts.Rand = rand.Reader
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Serve accepts connections from l until it is closed.
func (s *Server) Serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.closing.Load() {
				return nil
			}
			return err
		}
		s.ServeConn(c)
	}
}

// ServeConn serves one connection in its own goroutine.
func (s *Server) ServeConn(c net.Conn) {
	if s.closing.Load() {
		c.Close()
		return
	}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("panic serving auth connection", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			}
		}()
		s.serve(c)
	}()
}

// Shutdown closes every connection and waits for their goroutines, or
// for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.cancel()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close is Shutdown without waiting.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Shutdown(ctx)
	return nil
}

// kind is what a socket speaks.
type kind int

const (
	kindClient kind = iota
	kindMaster
	kindUserdb
)

// kindOf names the socket kind from the listener's path, as Dovecot's
// auth main.c does from the listener name.
func kindOf(c net.Conn) kind {
	a, ok := c.LocalAddr().(*net.UnixAddr)
	if !ok {
		return kindClient
	}
	name := filepath.Base(a.Name)
	switch {
	case strings.HasSuffix(name, "-master"):
		return kindMaster
	case strings.HasSuffix(name, "-userdb"):
		return kindUserdb
	}
	return kindClient
}

// conn is one connection's state.
type conn struct {
	s   *Server
	c   net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	log *slog.Logger
}

func (s *Server) serve(c net.Conn) {
	cn := &conn{s: s, c: c, r: bufio.NewReaderSize(c, authproto.MaxLineLength+2), w: bufio.NewWriter(c), log: s.log}
	var err error
	switch kindOf(c) {
	case kindClient:
		err = cn.serveClient()
	case kindMaster:
		err = cn.serveMaster(false)
	case kindUserdb:
		err = cn.serveMaster(true)
	}
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		s.log.Info("auth connection closed", "error", err.Error())
	}
}

// readLine returns the next line; a line too long is a protocol error.
func (cn *conn) readLine() (authproto.Line, error) {
	b, err := cn.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return authproto.Line{}, fmt.Errorf("line too long: %w", authproto.ErrProtocol)
	}
	if err != nil {
		return authproto.Line{}, err
	}
	return authproto.ParseLine(b[:len(b)-1])
}

func (cn *conn) send(cmd string, fields ...string) error {
	cn.w.Write(authproto.AppendLine(nil, cmd, fields...))
	return cn.w.Flush()
}

func (cn *conn) expectVersion(major int) error {
	l, err := cn.readLine()
	if err != nil {
		return err
	}
	if l.Cmd != "VERSION" {
		return fmt.Errorf("first line is %q, not VERSION: %w", l.Cmd, authproto.ErrProtocol)
	}
	got, _, err := authproto.ParseVersion(l.Args)
	if err != nil {
		return err
	}
	if got != major {
		return fmt.Errorf("client has protocol version %d, we have %d: %w", got, major, authproto.ErrProtocol)
	}
	return nil
}

func pid() string { return strconv.Itoa(os.Getpid()) }

func (cn *conn) cookie() string {
	b := make([]byte, 16)
	io.ReadFull(cn.s.opts.Rand, b)
	return hex.EncodeToString(b)
}
