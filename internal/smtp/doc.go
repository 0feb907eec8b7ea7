// Package smtp implements the wire format shared by SMTP and LMTP: command
// lines with a length limit, the MAIL FROM/RCPT TO path and parameter
// syntax, replies with enhanced status codes, the DATA dot-stuffing reader
// and BDAT chunks.
//
// RFC 5321 (SMTP), RFC 2033 (LMTP), RFC 2034 and RFC 3463 (enhanced status
// codes), RFC 3030 (CHUNKING/BDAT), RFC 1870 (SIZE), RFC 6152 (8BITMIME).
//
// Deliberate deviation, as Dovecot: a bare LF ends a command line and a
// DATA line; the stored message keeps the line ends as sent.
package smtp
