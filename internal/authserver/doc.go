// Package authserver serves Dovecot's auth sockets: the auth-client protocol Postfix and Exim use for SMTP AUTH, and auth-master/auth-userdb for lookups.
//
// The socket kind follows Dovecot's naming of the service auth listener:
// a unix listener whose file name ends in "-master" speaks auth-master
// (USER, PASS, LIST, CACHE-FLUSH), one ending in "-userdb" speaks the
// same protocol without PASS, and every other listener (auth-client,
// /var/spool/postfix/private/auth, inet listeners) speaks auth-client.
// Line formats are in package authproto.
//
// auth-client: the server greets with its version, one MECH line per
// mechanism with Dovecot's security flags (so Postfix's
// smtpd_sasl_security_options filters work), SPID, CUID, COOKIE and DONE.
// Each AUTH starts an exchange through the Authenticator (login.Service
// behind an adapter in package server); CONT continues it by id.
// Requests of one connection are handled in order by the connection's
// goroutine, so a failure delay holds that connection only (Postfix opens
// one per SMTP session). -PLUS mechanisms are not listed: the protocol
// has no way to pass channel binding data in Dovecot 2.3.
//
// auth-master: USER runs the userdb chain, PASS the passdb chain in
// lookup mode (no password), LIST iterates the userdbs that can list
// users, with * and ? wildcards in user=.
//
// Limits: authproto.MaxLineLength per line, MaxPending exchanges in
// progress per connection; a protocol error closes the connection.
package authserver
