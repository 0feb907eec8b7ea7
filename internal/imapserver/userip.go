package imapserver

import (
	"net/netip"
	"strconv"
	"sync"
)

// DefaultMaxUserIPConnections is mail_max_userip_connections' default.
const DefaultMaxUserIPConnections = 10

// UserIPLimit turns the mail_max_userip_connections setting into
// Options.MaxUserIPConnections: the setting's 0 (no limit) becomes -1.
func UserIPLimit(setting uint64) int {
	if setting == 0 {
		return -1
	}
	return int(min(setting, 1<<31-1))
}

// userIP is what mail_max_userip_connections counts by.
type userIP struct {
	user string
	ip   netip.Addr
}

// UserIPCounter counts logged-in sessions per user and remote IP, as
// Dovecot's anvil does for mail_max_userip_connections. Servers given the
// same counter count together, so one counter per protocol (shared by the
// imap and imaps listeners) makes the limit protocol-wide as in Dovecot.
// Its methods are safe for concurrent use.
type UserIPCounter struct {
	mu sync.Mutex // guards n
	n  map[userIP]int
}

// NewUserIPCounter returns an empty counter.
func NewUserIPCounter() *UserIPCounter {
	return &UserIPCounter{n: map[userIP]int{}}
}

// acquire counts one more session for k unless limit sessions are counted
// already; a negative limit never refuses.
func (u *UserIPCounter) acquire(k userIP, limit int) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if limit >= 0 && u.n[k] >= limit {
		return false
	}
	u.n[k]++
	return true
}

// release uncounts a session acquire counted.
func (u *UserIPCounter) release(k userIP) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n[k] <= 1 {
		delete(u.n, k)
		return
	}
	u.n[k]--
}

// count returns the sessions counted for k (tests).
func (u *UserIPCounter) count(k userIP) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.n[k]
}

// claimUserIP counts the session of user s from the client's IP, or
// refuses the login as Dovecot's imap-login does: a tagged NO [LIMIT],
// then the connection is closed.
func (c *conn) claimUserIP(s *Session) error {
	k := userIP{user: s.User, ip: c.ci.Remote.Addr().Unmap()}
	limit := c.srv.opts.MaxUserIPConnections
	if c.srv.userIP.acquire(k, limit) {
		c.userIP = &k
		return nil
	}
	text := "Maximum number of connections from user+IP exceeded (mail_max_userip_connections=" + strconv.Itoa(limit) + ")"
	c.attempts.user, c.attempts.method = s.User, s.Method
	c.logout, c.logoutDetail = "Maximum number of connections from user+IP exceeded",
		"mail_max_userip_connections="+strconv.Itoa(limit)
	c.after = func() error { return errByeSent } // no BYE, as Dovecot
	return no("LIMIT", text)
}

// releaseUserIP uncounts the session at disconnect.
func (c *conn) releaseUserIP() {
	if c.userIP != nil {
		c.srv.userIP.release(*c.userIP)
		c.userIP = nil
	}
}
