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
// Mechanisms (mech.go): PLAIN, LOGIN, OAUTHBEARER and XOAUTH2 verify a
// password or token through the passdb chain; CRAM-MD5, DIGEST-MD5 and
// SCRAM look up credentials of the scheme they need, and a stored scheme
// that cannot give them fails the login with a warning naming the fix;
// EXTERNAL takes the user from the verified client certificate
// (ssl_cert_username_field) and checks an empty password, as Dovecot
// does, so a passdb must admit that user with "nopassword";
// ANONYMOUS logs in as auth_anonymous_username after a userdb lookup
// only. -PLUS mechanisms are offered only on TLS connections whose state
// the protocol passed in ConnInfo. Success data (SCRAM's server-final
// message) is sent as one more challenge, answered by an empty response.
//
// auth_default_realm is appended here, before the chains run, to names
// without '@' (both names of "user*master"). The auth penalty (penalty.go)
// delays attempts from an address by 2, 4, 8, then 15 seconds after
// consecutive failures, as Dovecot's anvil, and is reset by a success.
//
// After a successful passdb check, "nologin" refuses the login with the
// passdb's reason; "proxy" skips the userdb lookup (the backend does it);
// otherwise the userdb chain must know the user.
package login
