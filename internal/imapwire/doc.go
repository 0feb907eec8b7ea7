// Package imapwire implements the IMAP wire syntax: a Decoder for client
// commands and a typed Encoder for server responses (RFC 3501 section 9
// ABNF, RFC 7888 LITERAL+ and LITERAL-).
//
// The Decoder reads from a bufio.Reader with sticky errors, so a parser
// reads like the grammar: `if !dec.ExpectSP() || !dec.ExpectMailbox(&name)
// { return dec.Err() }`. Limits are explicit: MaxLineLength bounds the
// bytes of a command outside literal data, MaxLiteralSize the literals
// read into memory; a synchronising literal's continuation request is
// sent through DecoderOptions.Continue only when its data is wanted, so a
// refused command never makes the client send the data. Syntax errors
// (*SyntaxError) are recoverable: DiscardLine skips the rest of the
// command, including non-synchronising literal data.
//
// The Encoder chooses atom, quoted string or literal for each value, so
// client- or message-supplied data can never break the framing; output is
// buffered until Flush, which servers call once per response.
//
// Deviations, as Dovecot: a bare LF ends a line; a date-time that is
// well-formed but not on the calendar decodes as the zero time.
package imapwire
