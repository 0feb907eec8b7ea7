// Package authproto implements the line formats of Dovecot 2.3's auth sockets.
//
// Two protocols share one framing: lines of tab-separated fields ended by
// LF, with tab, CR, LF and ^A in values escaped as ^A followed by 't',
// 'r', 'n' or '1' (Dovecot's str_tabescape).
//
// auth-client (what Postfix's smtpd_sasl_type = dovecot, Exim's dovecot
// authenticator and Dovecot's login processes speak): the server opens
// with VERSION 1 2, one MECH line per mechanism with its security flags,
// SPID, CUID, COOKIE and DONE; the client sends VERSION and CPID, then
// AUTH id mech key=value... (resp= carries a base64 initial response,
// secured / valid-client-cert / no-penalty are flags) and CONT id base64;
// the server answers CONT, OK id user=... or FAIL id [reason=...] [temp].
//
// auth-master (auth-master and auth-userdb sockets; LDA, LMTP, doveadm):
// VERSION 1 0 both ways, then USER id user key=value..., PASS id user
// key=value..., LIST id [user=mask] and CACHE-FLUSH id [user...]. The
// server answers USER/PASS id user fields..., NOTFOUND id, FAIL id
// [reason=...], LIST id user lines ended by DONE id [fail], and OK id
// count for CACHE-FLUSH.
//
// Limits: MaxLineLength bytes per line (Dovecot's
// AUTH_CLIENT_MAX_LINE_LENGTH plus base64 slack), MaxFields fields, and
// request ids that fit in 32 bits and are not 0.
package authproto
