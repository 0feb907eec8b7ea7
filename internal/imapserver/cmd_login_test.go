package imapserver

import (
	"encoding/base64"
	"strings"
	"testing"
)

const postLoginCaps = "IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES " +
	"THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 UTF8=ACCEPT " +
	"CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW LIST-STATUS BINARY MOVE STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE COMPRESS=DEFLATE REPLACE CREATE-SPECIAL-USE METADATA"

func TestGreetingAndCapability(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, greeting := ts.dial()
	want := "* OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot ready."
	if greeting != want {
		t.Fatalf("greeting %q\nwant     %q", greeting, want)
	}
	c.cmd("a CAPABILITY").status("OK Pre-login capabilities listed, post-login capabilities have more.").
		equal("* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN")
	postLogin := postLoginCaps
	// A client that asked for CAPABILITY before login may ignore the
	// response code: Dovecot sends the list untagged.
	c.cmd("b LOGIN alice secret").status("OK Logged in").equal("* CAPABILITY " + postLogin)
	c.cmd("c CAPABILITY").ok().equal("* CAPABILITY " + postLogin)

	c, _ = ts.dial()
	if r := c.cmd("d LOGIN alice secret").ok(); r.tagged != "OK [CAPABILITY "+postLogin+"] Logged in" {
		t.Fatalf("login: %q", r.tagged)
	}
}

func TestGreetingConfigured(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(o *Options) {
		o.Greeting = "roost at your service."
		o.LiteralMinus = true
	})
	_, greeting := ts.dial()
	if !strings.HasSuffix(greeting, "] roost at your service.") || !strings.Contains(greeting, " LITERAL- ") {
		t.Fatalf("greeting %q", greeting)
	}
}

func TestLoginDisabledWithoutTLS(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.auth.insecure = false
	c, greeting := ts.dial()
	if !strings.Contains(greeting, " LOGINDISABLED]") || strings.Contains(greeting, "AUTH=") ||
		strings.Contains(greeting, "STARTTLS") {
		t.Fatalf("greeting %q", greeting)
	}
	c.cmd("a LOGIN alice secret").status("NO [PRIVACYREQUIRED] ").
		equal("* BAD [ALERT] Plaintext authentication not allowed without SSL/TLS, but your client did it anyway. " +
			"If anyone was listening, the password was exposed.")
	c.cmd("b AUTHENTICATE PLAIN").status("NO [PRIVACYREQUIRED] ")
}

func TestLogin(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.cmd("a LOGIN alice wrong").status("NO [AUTHENTICATIONFAILED] Authentication failed.")
	c.cmd("b LOGIN nobody secret").status("NO [AUTHENTICATIONFAILED] Authentication failed.")
	c.cmd("c LOGIN broken x").status("NO [UNAVAILABLE] ")
	c.send(`d LOGIN "alice" {6}`)
	c.expect("+ OK")
	c.send("secret")
	c.collect("d").ok()
	c.cmd("e LOGIN alice secret").status("BAD Error in IMAP command LOGIN: Unknown command.")
	c.cmd("f AUTHENTICATE PLAIN").status("BAD Error in IMAP command AUTHENTICATE: Unknown command.")
	c.cmd("g STARTTLS").status("BAD Error in IMAP command STARTTLS: Unknown command.")
	c.cmd("h LOGOUT").ok().equal("* BYE Logging out")
	c.expectClosed()
	log := ts.log.String()
	for _, want := range []string{
		"imap-login: Info: Login: user=<alice>, method=PLAIN, rip=",
		"imap(alice)<", ">: Info: Disconnected: Logged out in=",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "secret") {
		t.Errorf("log has the password:\n%s", log)
	}
}

func TestLoginLiteralPlus(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.sendRaw("a LOGIN {5+}\r\nalice {6+}\r\nsecret\r\n")
	c.collect("a").ok()
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00secret"))

	c, _ := ts.dial()
	c.cmd("a AUTHENTICATE FOO").status("NO [ALERT] Unsupported authentication mechanism.")
	c.send("b AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send("*")
	c.collect("b").status("BAD Authentication aborted by client.")
	c.send("c AUTHENTICATE PLAIN")
	c.expect("+ ")
	c.send("!!!")
	c.collect("c").status("NO [ALERT] Invalid base64 in response")
	c.cmd("d AUTHENTICATE PLAIN =").status("NO [AUTHENTICATIONFAILED]")
	c.cmd("e AUTHENTICATE PLAIN " + plain).status("OK [CAPABILITY IMAP4rev1 ")

	c, _ = ts.dial()
	c.send("a AUTHENTICATE plain")
	c.expect("+ ")
	c.send(plain)
	c.collect("a").status("OK [CAPABILITY ")

	c, _ = ts.dial()
	c.send("a AUTHENTICATE LOGIN")
	if got := c.expect("+ "); got != "+ "+base64.StdEncoding.EncodeToString([]byte("Username:")) {
		t.Fatalf("challenge %q", got)
	}
	c.send(base64.StdEncoding.EncodeToString([]byte("alice")))
	c.expect("+ ")
	c.send(base64.StdEncoding.EncodeToString([]byte("secret")))
	c.collect("a").status("OK [CAPABILITY ")
	if !strings.Contains(ts.log.String(), "method=LOGIN") {
		t.Errorf("log lacks method=LOGIN:\n%s", ts.log.String())
	}
}

func TestPreLoginBadCommands(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.cmd("a SELECT INBOX").status("BAD Error in IMAP command received by server.")
	c.cmd("b FOO").status("BAD Error in IMAP command received by server.")
	c.send("c LOGIN")
	c.expect("* BYE Too many invalid IMAP commands.")
	c.expectClosed()
}

func TestPostLoginBadCommands(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	for i := 1; i < DefaultMaxBadCommands; i++ {
		c.cmd("b FOO").status("BAD Error in IMAP command FOO: Unknown command.")
	}
	c.send("z FOO")
	c.expect("z BAD ")
	c.expect("* BYE Too many invalid IMAP commands.")
	c.expectClosed()
}

func TestDisconnectLogLines(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.cmd("a LOGIN alice wrong").status("NO ")
	c.nc.Close()
	c, _ = ts.dial()
	c.nc.Close()
	c, _ = ts.dial()
	c.cmd("x LOGOUT").ok()
	c = ts.login()
	c.cmd("b NOOP").ok()
	c.nc.Close()
	ts.srv.Close() // waits for the connections to log
	log := ts.log.String()
	for _, want := range []string{
		"imap-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 0 secs): user=<alice>, method=PLAIN, rip=",
		"imap-login: Info: Disconnected: Connection closed (no auth attempts in 0 secs): user=<>, rip=",
		"imap-login: Info: Disconnected: Aborted login by logging out (no auth attempts in 0 secs): user=<>, rip=",
		": Info: Disconnected: Connection closed (NOOP finished 0.000 secs ago) in=",
		" deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestBadCounterResets(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c := ts.login()
	for i := 1; i < DefaultMaxBadCommands; i++ {
		c.cmd("b FOO").status("BAD ")
	}
	c.cmd("c NOOP").ok() // a good command starts the count again
	c.cmd("d FETCH 1 FLAGS").status("BAD No mailbox selected.")
	for i := 1; i < DefaultMaxBadCommands; i++ {
		c.cmd("e FOO").status("BAD ")
	}
	c.cmd("f LOGOUT").ok()
}
