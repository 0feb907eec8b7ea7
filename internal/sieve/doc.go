// Package sieve implements the Sieve mail filtering language runtime: a
// validator that checks a parsed script (package sieve/syntax) against the
// commands, tests and tagged arguments of each extension and the script's
// require lines, and an interpreter that evaluates it against a message and
// produces a Result (the actions, the implicit keep) that can be printed as
// Pigeonhole's sieve-test does or executed.
//
// RFCs: RFC 5228 (Sieve), RFC 5229 (variables), RFC 5230 and RFC 6131
// (vacation, vacation-seconds), RFC 5231 (relational), RFC 4790
// (i;ascii-numeric), RFC 5232 (imap4flags), RFC 5233 (subaddress), RFC 3894
// (copy), RFC 5173 (body), RFC 5260 (date, index), RFC 5293 (editheader),
// RFC 5429 (reject, ereject), RFC 5183 (environment), RFC 5235 (spamtest,
// spamtestplus, virustest), RFC 5435 and RFC 5436 (enotify, mailto),
// RFC 5463 (ihave), RFC 5490 (mailbox), RFC 5703 (mime, foreverypart,
// extracttext), RFC 6609 (include), RFC 7352 (duplicate), RFC 8579
// (special-use), draft-ietf-sieve-regex (regex), RFC 5228 section 2.4.2.4 and
// RFC 5228's encoded-character extension (RFC 5228 section 2.4.2.4).
//
// The package knows nothing of storage or mail transport. Everything the
// script touches outside the message is an interface in env.go that the
// caller (delivery, the sieve-test tool, the test suite) implements:
// Mailboxes (existence, creation, storing), Tracker (duplicate and vacation
// memory), Mailer (outgoing mail) and Scripts (include). In-memory
// implementations are in mem.go.
//
// Failure model: a compile error carries line and column and the script is
// not run. A runtime error stops the script; the actions collected so far
// are dropped and the implicit keep is done instead (RFC 5228 section 2.10.6),
// so a broken script never loses a message.
//
// Deviations from Pigeonhole: error counts of badly broken scripts may
// differ; of the vnd.dovecot.* extensions only debug, the test suite and
// sieve_extprograms' pipe, filter and execute (ext_extprograms*.go,
// programs from a bin directory only, never sockets) are implemented.
// imapsieve_run.go runs imapsieve (RFC 6785) scripts for a stored message.
package sieve
