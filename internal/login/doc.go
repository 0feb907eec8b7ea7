// Package login holds the pre-authentication policy and SASL exchange shared by every protocol.
//
// IMAP, POP3 and ManageSieve servers call a Service: PlaintextAllowed and
// Mechanisms decide what to advertise, Login handles IMAP LOGIN and POP3
// USER/PASS, and Begin/Exchange.Next run an AUTHENTICATE exchange over any
// SASL mechanism. A successful login yields a Session: the user name after
// all rewriting, the userdb answer and the passdb extra fields (proxy,
// host, ...). Failures are *Error values carrying a Kind; each protocol
// maps kinds to its own replies (IMAP: AUTHENTICATIONFAILED, UNAVAILABLE,
// PRIVACYREQUIRED, BAD for aborts).
//
// Policy, as Dovecot's login-common: a connection is secured when it uses
// TLS, comes from login_trusted_networks, or its remote IP is its local IP
// or a loopback address. Plaintext mechanisms (and LOGIN/USER+PASS) are
// allowed on a secured connection, or anywhere when disable_plaintext_auth
// = no and ssl != required.
//
// Every failed attempt waits out auth_failure_delay counted from the
// attempt's start (auth.Auth.FailureDelay), whether the user was unknown,
// the password wrong, the databases unavailable or the SASL data
// malformed, unless the passdb returned "nodelay". Aborts, unknown
// mechanisms and plaintext refusals answer at once: they reveal nothing
// about users. A temporary failure is never reported as a failed login.
//
// After a successful passdb check, "nologin" refuses the login with the
// passdb's reason; "proxy" skips the userdb lookup (the backend does it);
// otherwise the userdb chain must know the user.
package login
