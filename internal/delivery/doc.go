// Package delivery implements local delivery, shared by the LMTP server
// and the LDA (dovecot-lda): recipient lookup in the userdb, the filter
// hook where Sieve plugs in, and saving into the user's mailbox with the
// trace headers Dovecot adds.
//
// A delivery is acknowledged only after storage.User.Append returned, that
// is after the message is durable per mail_fsync. Every failure is
// classified once, in result.go, as temporary (the sender retries) or
// permanent; a failure to write (disk full, I/O error, userdb outage) is
// always temporary and leaves nothing visible in the mailbox.
//
// Flow for one recipient: Resolve (at RCPT time) -> Deliver: open the
// user's storage -> Filter (Sieve; implicit keep when nil) -> save into
// the detail mailbox, the -m mailbox or INBOX, creating and subscribing a
// missing mailbox when lda_mailbox_autocreate/autosubscribe say so, else
// falling back to INBOX as Dovecot does.
//
// Limits: a message over quota_max_mail_size (Options.MaxMailSize, or the
// userdb field of that name) is refused permanently before the user's
// storage is opened (Dovecot 2.3 fails it temporarily; see result.go).
// lmtp_rcpt_check_quota asks Options.Quota, the hook where the quota
// plugin plugs in; without one every recipient passes.
//
// Rejections (rejection.go): the LDA without -e reports a permanent
// failure to the envelope sender with Dovecot's DSN, sent from <> through
// sendmail_path or submission_host (Sendmail); nothing is sent for a null
// sender or an Auto-Submitted message, and a report that cannot be handed
// over turns the failure into a temporary one. LMTP never sends one: its
// per-recipient reply makes the MTA bounce. A Sieve reject is reported
// the same way at LDA and LMTP, with a disposition notification instead
// of the delivery status (SendMDN), as Pigeonhole has Dovecot do it;
// dovecot-lda -e does not change that (checked against Debian's). A Sieve
// ereject is refused at the protocol level where the caller can
// (Envelope.CanRefuse: LMTP, LDA -e): 550 5.7.1 with the reason (RFC 5429
// section 2.1); elsewhere it is a reject.
//
// Sieve (sieve.go) runs sieve_before, the personal script and sieve_after
// through sieve.Multiscript: edits and internal flags carry from one
// script to the next, the chain stops when a script cancels the implicit
// keep. debug_log messages and run-time errors of the personal script go
// to the user's Sieve log ("info: DEBUG: ...", "error: ..."), those of
// global scripts to the main log ("sieve: DEBUG: ..."). Sieve actions are
// logged in Pigeonhole's words ("sieve: msgid=...: fileinto action: stored
// mail into mailbox 'X'", "... redirect action: forwarded to <...>"). A
// bare LDA user name (-d user) is the recipient user@hostname, as in
// dovecot-lda.
package delivery
