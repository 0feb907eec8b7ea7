// Package lmtp implements an LMTP server (RFC 2033) that hands messages to
// the delivery package, as Dovecot's lmtp service does.
//
// Extensions: PIPELINING (RFC 2920), ENHANCEDSTATUSCODES (RFC 2034),
// 8BITMIME (RFC 6152), CHUNKING/BDAT (RFC 3030), SIZE (RFC 1870; Dovecot
// 2.3 does not advertise it — roost offers it, a superset), STARTTLS
// (RFC 3207) when TLS is configured.
//
// State machine of a connection:
//
//	greeting -> LHLO -> MAIL -> RCPT+ -> DATA | BDAT* BDAT LAST -> (MAIL ...)
//
// RSET and a new LHLO return to the state after LHLO. Recipients are looked
// up at RCPT (550 5.1.1 unknown, 451 4.3.0 on a lookup failure), and after
// the message there is one reply per accepted recipient, in RCPT order,
// each sent only after that recipient's copy is durable. Replies are
// buffered while the client has pipelined more commands and flushed when
// its input runs dry.
package lmtp
