// Package sasl implements server-side SASL mechanisms (RFC 4422) independent of any protocol.
//
// A Mechanism is a state machine: the protocol server decodes each client
// response (base64, "*" for abort, "=" for an empty initial response) and
// passes the raw bytes to Next, which returns the next challenge, or done.
// The first call to Next carries the initial response, or nil when the
// client sent none. When done is true a non-nil challenge is additional
// data with success (SCRAM's server-final message); protocols without a
// way to send it with the success reply send it as one more challenge
// and expect an empty response. Credentials are checked by callbacks the
// caller provides, so this package knows nothing of password databases.
//
// Implemented:
//   - PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login-00);
//   - CRAM-MD5 (RFC 2195) from Dovecot's stored HMAC-MD5 context;
//   - DIGEST-MD5 (RFC 2831), qop=auth only, as Dovecot 2.3 offers it;
//   - SCRAM-SHA-1 (RFC 5802) and SCRAM-SHA-256 (RFC 7677) with their
//     -PLUS forms binding tls-unique, tls-exporter (RFC 9266) or
//     tls-server-end-point (RFC 5929), from Dovecot's stored
//     "iter,salt,StoredKey,ServerKey" credentials;
//   - EXTERNAL (RFC 4422 appendix A), ANONYMOUS (RFC 4505);
//   - OAUTHBEARER (RFC 7628) and XOAUTH2, with the JSON error challenge
//     before failure.
//
// Mechanisms needing stored credentials take a CredentialsFunc and fail
// with ErrMismatch when the proof is wrong; the others take a callback
// that decides. PLAIN's authorization identity follows Dovecot: an
// authzid equal to the authcid is ignored; a different one is passed to
// the callback, which treats it as a master-user login.
//
// Deliberate deviation: Dovecot 2.3 has no -PLUS mechanisms; roost offers
// them when auth_mechanisms names them.
package sasl
