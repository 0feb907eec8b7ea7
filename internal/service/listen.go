package service

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// InetListener is an `inet_listener NAME { address port ssl }` section.
type InetListener struct {
	Service string // e.g. "imap-login"
	Name    string // e.g. "imap", "imaps"
	Address string // comma/space separated; "" = the global `listen`
	Port    int    // 0 = disabled, as in Dovecot
	SSL     bool   // implicit TLS (imaps)
}

// UnixListener is a `unix_listener PATH { mode user group }` section.
type UnixListener struct {
	Service string
	Path    string
	Mode    os.FileMode
	User    string // "" = leave
	Group   string
}

// Bound is a listener together with the section it came from.
type Bound struct {
	net.Listener
	Inet *InetListener // nil for unix sockets
	Unix *UnixListener
}

// ListenInet binds one listener per address of l (or of listen when l has
// none). Dovecot's `*` means all IPv4 and `::` all IPv6 addresses; `[::]`
// is accepted too. Nothing is bound when Port is 0.
func ListenInet(l *InetListener, listen string) ([]Bound, error) {
	if l.Port == 0 {
		return nil, nil
	}
	addrs := l.Address
	if addrs == "" {
		addrs = listen
	}
	var out []Bound
	for _, a := range splitAddrs(addrs) {
		network, host := "tcp", a
		switch a {
		case "*":
			network, host = "tcp4", "0.0.0.0"
		case "::", "[::]":
			network, host = "tcp6", "::"
		}
		host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		ln, err := net.Listen(network, net.JoinHostPort(host, strconv.Itoa(l.Port)))
		if err != nil {
			if network == "tcp6" && isAddrNotAvail(err) {
				continue // no IPv6 on this host, as Dovecot tolerates
			}
			closeAll(out)
			return nil, fmt.Errorf("service(%s): listen(%s, %d) failed: %w", l.Service, a, l.Port, err)
		}
		out = append(out, Bound{Listener: ln, Inet: l})
	}
	return out, nil
}

func isAddrNotAvail(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}

func splitAddrs(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// ListenUnix creates a unix socket with the configured mode and owner. A
// stale socket file left by a previous run is removed first.
func ListenUnix(l *UnixListener) (Bound, error) {
	if fi, err := os.Lstat(l.Path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.Dial("unix", l.Path); err == nil {
			c.Close()
			return Bound{}, fmt.Errorf("service(%s): socket %s is in use by another process", l.Service, l.Path)
		}
		_ = os.Remove(l.Path)
	}
	ln, err := net.Listen("unix", l.Path)
	if err != nil {
		return Bound{}, fmt.Errorf("service(%s): %w", l.Service, err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(true)
	}
	mode := l.Mode
	if mode == 0 {
		mode = 0o600
	}
	if err := os.Chmod(l.Path, mode); err != nil {
		ln.Close()
		return Bound{}, fmt.Errorf("service(%s): chmod %s: %w", l.Service, l.Path, err)
	}
	if l.User != "" || l.Group != "" {
		uid, gid := -1, -1
		if l.User != "" {
			if uid, err = LookupUID(l.User); err != nil {
				ln.Close()
				return Bound{}, fmt.Errorf("service(%s): unix_listener %s: %w", l.Service, l.Path, err)
			}
		}
		if l.Group != "" {
			if gid, err = LookupGID(l.Group); err != nil {
				ln.Close()
				return Bound{}, fmt.Errorf("service(%s): unix_listener %s: %w", l.Service, l.Path, err)
			}
		}
		if err := os.Chown(l.Path, uid, gid); err != nil {
			ln.Close()
			return Bound{}, fmt.Errorf("service(%s): chown %s: %w", l.Service, l.Path, err)
		}
	}
	return Bound{Listener: ln, Unix: l}, nil
}

func closeAll(bs []Bound) {
	for _, b := range bs {
		b.Close()
	}
}

// LookupUID resolves a user name or number.
func LookupUID(name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return -1, fmt.Errorf("unknown user %q", name)
	}
	return strconv.Atoi(u.Uid)
}

// LookupGID resolves a group name or number.
func LookupGID(name string) (int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		return n, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1, fmt.Errorf("unknown group %q", name)
	}
	return strconv.Atoi(g.Gid)
}

// DropPrivileges switches the whole process to uid/gid for good (Linux
// applies setresuid to every thread). It is a no-op when not running as
// root or when uid is negative. Supplementary groups are set to extra.
func DropPrivileges(uid, gid int, extra []int) error {
	if os.Geteuid() != 0 || uid < 0 {
		return nil
	}
	if uid == 0 {
		return errors.New("refusing to serve mail as root: set mail_uid (or the userdb uid) to an unprivileged user")
	}
	groups := append([]int{gid}, extra...)
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("setresgid(%d): %w", gid, err)
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("setresuid(%d): %w", uid, err)
	}
	if syscall.Setresuid(0, 0, 0) == nil {
		return errors.New("privilege drop failed: could regain root")
	}
	return nil
}
