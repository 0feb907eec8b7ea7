package pop3server

import (
	"testing"
)

func TestStls(t *testing.T) {
	t.Parallel()
	srvTLS, cliTLS := testTLSConfig(t)
	ts := newTestServer(t, func(o *Options) { o.TLS = srvTLS })
	c, _ := ts.dial()
	c.expect("STLS", "+OK Begin TLS negotiation now.")
	c.startTLS(cliTLS)
	c.expect("STLS", "-ERR TLS is already active.")
	caps := c.multi("CAPA", "+OK")
	for _, l := range caps {
		if l == "STLS" {
			t.Fatal("STLS advertised after TLS")
		}
	}
	c.expect("USER alice", "+OK")
	c.expect("PASS secret", "+OK Logged in.")
	c.expect("QUIT", "+OK Logging out.")
}

func TestStlsDisabled(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.expect("STLS", "-ERR TLS support isn't enabled.")
}
