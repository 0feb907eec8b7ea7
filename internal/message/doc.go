// Package message implements a tolerant MIME parser (RFC 5322, RFC 2045-2049)
// that matches Dovecot's view of malformed mail.
//
// Parse turns a message (CRLF form, as IMAP APPEND stores it) into a Part
// tree with header and body offsets, sizes and line counts, the parsed
// Content-* headers (RFC 2045, RFC 2183, RFC 2231 continuations merged as
// Dovecot merges them) and, for the root and each message/rfc822 child, the
// envelope headers with parsed address lists (RFC 5322 section 3.4 plus
// obsolete syntax). Every repair follows Dovecot 2.3.19: missing end
// boundaries, parent boundaries inside child headers, boundaries that prefix
// each other, headers without a body separator, lines without a colon, NUL
// bytes, and the nesting limits MaxNestedParts and MaxTotalParts. The
// package is checked byte for byte against Dovecot's ENVELOPE and
// BODYSTRUCTURE answers for the shared corpus (see internal/imap).
//
// Deliberate deviations: none known. Content-Type alone makes a part MIME
// (Dovecot's non-strict mode, which its IMAP server uses).
//
// Helpers for search and sort: DecodedHeaderValue (RFC 2047), DecodeBody and
// DecodeBodyPart (base64, quoted-printable, charset to UTF-8 with
// golang.org/x/text), ParseDate (RFC 5322 section 3.3, exactly as Dovecot's message_date_parse) and
// HeaderFields for BODY[HEADER.FIELDS (...)] (RFC 3501 section 6.4.5).
// Nothing panics on any input; FuzzParse and FuzzAddressList check that.
package message
