package imapserver

import (
	"net"
	"strings"
	"testing"
)

func TestStartTLS(t *testing.T) {
	t.Parallel()
	srvCfg, cliCfg := testTLSConfig(t)
	ts := newTestServer(t, func(o *Options) { o.TLS = srvCfg })
	ts.auth.insecure = false
	c, greeting := ts.dial()
	if !strings.Contains(greeting, " STARTTLS LOGINDISABLED]") {
		t.Fatalf("greeting %q", greeting)
	}
	c.cmd("a STARTTLS").status("OK Begin TLS negotiation now.")
	c.startTLS(cliCfg)
	r := c.cmd("b CAPABILITY").ok()
	if caps := r.untagged[0]; strings.Contains(caps, "STARTTLS") || strings.Contains(caps, "LOGINDISABLED") ||
		!strings.Contains(caps, "AUTH=PLAIN") {
		t.Fatalf("capabilities after STARTTLS: %q", caps)
	}
	c.cmd("c STARTTLS").status("BAD TLS is already active.")
	// CAPABILITY was asked only after STARTTLS: the list is the
	// response code.
	c.cmd("d LOGIN alice secret").status("OK [CAPABILITY " + postLoginCaps + "] Logged in")
	if !strings.Contains(ts.log.String(), ", TLS, session=<") {
		t.Errorf("log lacks TLS:\n%s", ts.log.String())
	}
}

func TestStartTLSPipelined(t *testing.T) {
	t.Parallel()
	srvCfg, _ := testTLSConfig(t)
	ts := newTestServer(t, func(o *Options) { o.TLS = srvCfg })
	c, _ := ts.dial()
	c.sendRaw("a STARTTLS\r\nb LOGIN alice secret\r\n")
	c.expect("a OK Begin TLS negotiation now.")
	c.expectClosed()
}

func TestStartTLSNotConfigured(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, greeting := ts.dial()
	if strings.Contains(greeting, "STARTTLS") {
		t.Fatalf("greeting %q", greeting)
	}
	c.cmd("a STARTTLS").status("BAD TLS support isn't enabled.")
}

func TestImplicitTLS(t *testing.T) {
	t.Parallel()
	srvCfg, cliCfg := testTLSConfig(t)
	ts := newTestServer(t, func(o *Options) { o.TLS = srvCfg; o.ImplicitTLS = true })
	cli, srv := net.Pipe()
	ts.srv.ServeConn(srv)
	t.Cleanup(func() { cli.Close() })
	c := &tconn{t: t, nc: cli}
	c.startTLS(cliCfg)
	greeting := c.expect("* OK [CAPABILITY ")
	if strings.Contains(greeting, "STARTTLS") {
		t.Fatalf("greeting %q", greeting)
	}
	c.cmd("a LOGIN alice secret").ok()
}
