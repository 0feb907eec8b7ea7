// Package sasl implements server-side SASL mechanisms (RFC 4422) independent of any protocol.
//
// A Mechanism is a state machine: the protocol server decodes each client
// response (base64, "*" for abort, "=" for an empty initial response) and
// passes the raw bytes to Next, which returns the next challenge, or done.
// The first call to Next carries the initial response, or nil when the
// client sent none. Credentials are checked by callbacks the caller
// provides, so this package knows nothing of password databases.
//
// Implemented: PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login-00).
// Mechanisms that need stored credentials (CRAM-MD5, DIGEST-MD5, SCRAM-*)
// will take a CredentialsFunc; EXTERNAL and OAUTHBEARER will take their own
// callbacks; all return the same Mechanism interface.
//
// PLAIN's authorization identity follows Dovecot: an authzid equal to the
// authcid is ignored; a different one is passed to the callback, which
// treats it as a master-user login (authcid logs in as authzid) and must
// refuse it unless master users are configured.
package sasl
