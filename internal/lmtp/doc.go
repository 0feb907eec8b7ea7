// Package lmtp implements an LMTP server (RFC 2033) that hands messages to
// the delivery package, as Dovecot's lmtp service does.
//
// Extensions: PIPELINING (RFC 2920), ENHANCEDSTATUSCODES (RFC 2034),
// 8BITMIME (RFC 6152), CHUNKING/BDAT (RFC 3030), SIZE (RFC 1870; Dovecot
// 2.3 does not advertise it — roost offers it, a superset), STARTTLS
// (RFC 3207) when TLS is configured.
//
// Size limit (MaxMessageSize, the quota plugin's quota_max_mail_size):
// advertised as "SIZE n", a larger MAIL SIZE= is refused with 552 5.2.3,
// and a larger message is read to its end without being kept and refused
// for every recipient with 552 5.2.3 and the quota plugin's text.
// Deliberate deviation: Dovecot 2.3.19 answers an oversized message with
// 451 4.2.0 after DATA, so the MTA retries a message that can never be
// delivered; roost refuses it permanently (issue 3).
//
// lmtp_user_concurrency_limit counts a user's recipients from RCPT until
// that recipient's delivery ends (or the transaction is reset), within
// this server; lmtp_rcpt_check_quota asks the delivery's QuotaChecker at
// RCPT. Both answer at RCPT with Dovecot's replies.
//
// State machine of a connection:
//
//	greeting -> LHLO -> MAIL -> RCPT+ -> DATA | BDAT* BDAT LAST -> (MAIL ...)
//
// RSET and a new LHLO return to the state after LHLO. Recipients are looked
// up at RCPT (550 5.1.1 unknown, 451 4.3.0 on a lookup failure), and after
// the message there is one reply per accepted recipient, in RCPT order,
// each sent only after that recipient's copy is durable. Different users'
// copies are delivered concurrently (up to 16 at once, deliver.go), one
// user's in RCPT order; Dovecot delivers them one after another. Replies are
// buffered while the client has pipelined more commands and flushed when
// its input runs dry.
package lmtp
