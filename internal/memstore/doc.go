// Package memstore implements the storage API (package storage) in memory.
// It is the twin every protocol test runs against, and the reference for
// the behaviour the storage doc comments describe:
//
//   - One Driver holds every user's mail; sessions of one user share the
//     mailboxes, so a change made through one view is seen by the others
//     at their next Sync, and their Notify channels fire.
//   - UIDs are never reused: UIDNEXT only grows, also across EXPUNGE,
//     RENAME of INBOX and DELETE+CREATE (which gets a new UIDVALIDITY).
//   - \Recent belongs to the first read-write view that sees a message
//     (at Open or Sync); read-only views see \Recent without claiming it.
//   - Sync announces expunges from the highest sequence number down, as
//     Dovecot does (index_mailbox_sync_next_expunge), so each Expunge.Seq is
//     also the sequence number the view had before the Sync.
//   - Mailbox names are full names with the namespace prefix and the
//     namespace separator; "INBOX" is case-insensitive. Parents implied by
//     children are listed as \Noselect.
//
// Lock order: Driver.mu, then user.mu. Views have no lock of their own: a
// view is used by one goroutine, and every access to shared mailbox state
// happens under its user's mu.
package memstore
