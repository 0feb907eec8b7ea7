// Package managesieve implements a ManageSieve server (RFC 5804) as
// Pigeonhole's managesieve-login and managesieve processes answer: the
// capability greeting, STARTTLS, AUTHENTICATE with an initial response,
// and script management over a per-user script store (package sievestore).
//
// RFCs: RFC 5804 (ManageSieve), RFC 4422 (SASL), RFC 5228 (scripts are
// checked by the Sieve compiler before they are stored).
//
// State machine: non-authenticated (CAPABILITY, NOOP, LOGOUT, STARTTLS,
// AUTHENTICATE) -> authenticated (CAPABILITY, NOOP, LOGOUT, HAVESPACE,
// PUTSCRIPT, CHECKSCRIPT, LISTSCRIPTS, SETACTIVE, GETSCRIPT, DELETESCRIPT,
// RENAMESCRIPT, UNAUTHENTICATE). Commands of the other state are unknown
// commands, as in Pigeonhole, where the two states are two processes.
//
// Deviation: Pigeonhole 0.5 has no UNAUTHENTICATE; roost implements it
// (RFC 5804 section 2.14) and advertises it after login only.
//
// Limits: a command line is at most Options.MaxLineLength bytes
// (managesieve_max_line_length) and a literal at most MaxLiteral; three
// bad commands before login (twenty after) end the connection.
package managesieve
