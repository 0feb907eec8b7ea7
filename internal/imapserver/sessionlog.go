package imapserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"
)

// authAttempts counts failed logins for imap-login's disconnect line.
type authAttempts struct {
	n            int
	user, method string
}

// sessionStats are the counters of Dovecot's default imap_logout_format
// ("in=%i out=%o deleted=%{deleted} expunged=%{expunged} ..."). Command
// handlers add to them (EXPUNGE: expunged; STORE \Deleted: deleted;
// COPY/MOVE to a \Trash mailbox: trashed; FETCH: hdr_* and body_*).
type sessionStats struct {
	deleted, expunged, trashed int64
	hdrCount, hdrBytes         int64
	bodyCount, bodyBytes       int64
}

// failedAuth records a failed login attempt.
func (c *conn) failedAuth(user, method string) {
	c.attempts.n++
	c.attempts.user, c.attempts.method = user, method
}

// closedReason words a connection the client closed, as Dovecot does.
func (c *conn) closedReason(err error) string {
	reason := "Connection closed"
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, net.ErrClosed) &&
		!errors.Is(err, io.ErrClosedPipe) {
		reason += ": " + err.Error()
	}
	if c.session == nil {
		return reason
	}
	if c.lastCmd == "" {
		return reason + " (No commands sent)"
	}
	return fmt.Sprintf("%s (%s finished %.3f secs ago)", reason, c.lastCmd, secondsSince(c.srv.opts.Now(), c.lastDone))
}

func secondsSince(now, then time.Time) float64 { return now.Sub(then).Seconds() }

// logDisconnect writes Dovecot's disconnect line: imap-login's before
// login, imap's (with the byte counts and logout counters) after.
func (c *conn) logDisconnect() {
	reason := c.logout
	if reason == "" {
		reason = "Connection closed"
	}
	if c.session == nil {
		secs := int(secondsSince(c.srv.opts.Now(), c.started))
		detail := fmt.Sprintf("no auth attempts in %d secs", secs)
		user, method := "", ""
		if c.attempts.n > 0 {
			detail = fmt.Sprintf("auth failed, %d attempts in %d secs", c.attempts.n, secs)
			user = c.attempts.user
			if c.attempts.method != "" {
				method = "method=" + c.attempts.method + ", "
			}
		}
		if c.logoutDetail != "" {
			detail, user, method = c.logoutDetail, c.attempts.user, "method="+c.attempts.method+", "
		}
		c.log.Infof("Disconnected: %s (%s): user=<%s>, %srip=%s, lip=%s%s, session=<%s>",
			reason, detail, user, method, addrString(c.ci.Remote), addrString(c.ci.Local), c.tlsLogTag(), c.ci.SessionID)
		return
	}
	st := c.stats
	c.log.Infof("Disconnected: %s in=%d out=%d deleted=%d expunged=%d trashed=%d hdr_count=%d hdr_bytes=%d body_count=%d body_bytes=%d",
		reason, c.cnt.in.Load(), c.cnt.out.Load(), st.deleted, st.expunged, st.trashed,
		st.hdrCount, st.hdrBytes, st.bodyCount, st.bodyBytes)
}

// addrString is an address's IP as Dovecot logs it; "" when the
// connection has none (a pipe or unix socket).
func addrString(ap netip.AddrPort) string {
	if !ap.Addr().IsValid() {
		return ""
	}
	return ap.Addr().String()
}
