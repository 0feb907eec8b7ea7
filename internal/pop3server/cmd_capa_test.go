package pop3server

import (
	"testing"
)

func TestCapa(t *testing.T) {
	t.Parallel()
	srvTLS, _ := testTLSConfig(t)
	ts := newTestServer(t, func(o *Options) { o.TLS = srvTLS })
	c, _ := ts.dial()
	equalLines(t, "pre-login CAPA", c.multi("CAPA", "+OK"),
		"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "STLS", "USER", "SASL PLAIN LOGIN")
	c.expect("USER alice", "+OK")
	c.expect("PASS secret", "+OK Logged in.")
	equalLines(t, "post-login CAPA", c.multi("CAPA", "+OK"),
		"CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE")
}
