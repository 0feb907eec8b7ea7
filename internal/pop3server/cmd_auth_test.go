package pop3server

import (
	"encoding/base64"
	"testing"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestAuth(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	equalLines(t, "AUTH", c.multi("AUTH", "+OK"), "PLAIN", "LOGIN")
	c.expect("AUTH CRAM-MD5", "-ERR [AUTH] Unsupported authentication mechanism.")
	c.expect("AUTH PLAIN !!!", "-ERR [AUTH] Invalid base64 data in initial response")
	c.expect("AUTH PLAIN", "+ ")
	c.expect("*", "-ERR Authentication aborted by client.")
	c.expect("AUTH PLAIN "+b64("\x00alice\x00nope"), "-ERR [AUTH] Authentication failed.")
	c.expect("AUTH LOGIN", "+ "+b64("Username:"))
	c.expect(b64("alice"), "+ "+b64("Password:"))
	c.expect(b64("secret"), "+OK Logged in.")
	c.expect("QUIT", "+OK Logging out.")
}

func TestAuthInitialResponse(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.expect("AUTH PLAIN "+b64("\x00bob\x00hunter2"), "+OK Logged in.")
	c.expect("STAT", "+OK 0 0")
}

func TestAuthContinuation(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	c, _ := ts.dial()
	c.expect("auth plain", "+ ")
	c.expect(b64("\x00bob\x00hunter2"), "+OK Logged in.")
}
