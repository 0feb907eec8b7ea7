// Package imapwire decodes IMAP commands and encodes responses (RFC 3501 section 9 ABNF).
package imapwire
