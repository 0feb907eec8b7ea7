package ldapdb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// pool holds up to MaxConns connections to the directory. Search pools
// bind as dn/dnpass (or stay anonymous); bind pools are rebound as each
// user in turn and never searched on.
type pool struct {
	conf    *Conf
	timeout time.Duration
	search  bool
	sem     chan struct{} // one token per open connection

	mu   sync.Mutex // guards following
	idle []*ldap.Conn
}

func newPool(c *Conf, timeout time.Duration, maxConns int, search bool) *pool {
	return &pool{conf: c, timeout: timeout, search: search, sem: make(chan struct{}, maxConns)}
}

// get returns an idle connection or dials one, waiting for a free slot
// no longer than ctx allows.
func (p *pool) get(ctx context.Context) (*ldap.Conn, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("ldap: waiting for a connection: %w", ctx.Err())
	}
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if !c.IsClosing() {
			return c, nil
		}
		c.Close()
	} else {
		p.mu.Unlock()
	}
	c, err := p.dial(ctx)
	if err != nil {
		<-p.sem
		return nil, err
	}
	return c, nil
}

// put returns c to the pool, or closes it when it failed.
func (p *pool) put(c *ldap.Conn, broken bool) {
	if broken || c.IsClosing() {
		c.Close()
	} else {
		p.mu.Lock()
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	<-p.sem
}

func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		c.Close()
	}
	p.idle = nil
}

// dial connects to the first URI that answers, starts TLS if configured
// and binds the service account on search pools.
func (p *pool) dial(ctx context.Context) (*ldap.Conn, error) {
	var last error
	for _, u := range p.conf.URIs {
		c, err := p.dialOne(ctx, u)
		if err == nil {
			return c, nil
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, last
}

func (p *pool) dialOne(ctx context.Context, uri string) (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: p.opTimeout(ctx)}
	c, err := ldap.DialURL(uri, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(p.tlsFor(uri)))
	if err != nil {
		return nil, fmt.Errorf("ldap: connect %s: %w", uri, err)
	}
	c.SetTimeout(p.timeout)
	if p.conf.StartTLS && !isLDAPS(uri) {
		if err := c.StartTLS(p.tlsFor(uri)); err != nil {
			c.Close()
			return nil, fmt.Errorf("ldap: starttls %s: %w", uri, err)
		}
	}
	if p.search && p.conf.DN != "" {
		if err := c.Bind(p.conf.DN, p.conf.DNPass); err != nil {
			c.Close()
			return nil, fmt.Errorf("ldap: bind as dn %s: %w", p.conf.DN, err)
		}
	}
	return c, nil
}

func isLDAPS(uri string) bool { return len(uri) > 8 && uri[:8] == "ldaps://" }

func (p *pool) tlsFor(uri string) *tls.Config {
	tc := p.conf.TLS.Clone()
	if tc.ServerName == "" {
		if h, _, err := net.SplitHostPort(hostOf(uri)); err == nil {
			tc.ServerName = h
		} else {
			tc.ServerName = hostOf(uri)
		}
	}
	return tc
}

func hostOf(uri string) string {
	for _, p := range []string{"ldaps://", "ldap://"} {
		if len(uri) > len(p) && uri[:len(p)] == p {
			h := uri[len(p):]
			for i := 0; i < len(h); i++ {
				if h[i] == '/' {
					return h[:i]
				}
			}
			return h
		}
	}
	return uri
}

// opTimeout is the smaller of the pool's timeout and ctx's deadline.
func (p *pool) opTimeout(ctx context.Context) time.Duration {
	t := p.timeout
	if dl, ok := ctx.Deadline(); ok {
		if r := time.Until(dl); r < t {
			t = max(r, time.Millisecond)
		}
	}
	return t
}

// do runs op on a pooled connection; a connection-level failure is
// retried once on a fresh connection (the server may have restarted).
func (p *pool) do(ctx context.Context, op func(*ldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := p.get(ctx)
		if err != nil {
			return err
		}
		c.SetTimeout(p.opTimeout(ctx))
		err = op(c)
		broken := isConnError(err)
		p.put(c, broken)
		if !broken || attempt == 1 || ctx.Err() != nil {
			return err
		}
	}
}

// isConnError reports errors that say the connection is unusable, as
// opposed to an answer from the server.
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode == ldap.ErrorNetwork || le.ResultCode == ldap.LDAPResultServerDown ||
			le.ResultCode == ldap.ErrorUnexpectedResponse || le.ResultCode == ldap.LDAPResultTimeout ||
			le.ResultCode == ldap.LDAPResultUnavailable || le.ResultCode == ldap.LDAPResultBusy
	}
	return true
}
