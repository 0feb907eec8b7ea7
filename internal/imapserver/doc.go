// Package imapserver implements an IMAP4rev1 server (RFC 3501) over the
// storage API, with IDLE (RFC 2177), NAMESPACE (RFC 2342), UIDPLUS (RFC
// 4315), UNSELECT (RFC 3691), CHILDREN (RFC 3348), ID (RFC 2971), ENABLE
// (RFC 5161), SASL-IR (RFC 4959), LITERAL+ and LITERAL- (RFC 7888), MOVE
// (RFC 6851), SPECIAL-USE (RFC 6154), LIST-EXTENDED selection and return
// options (RFC 5258), STATUS=SIZE (RFC 8438) and STARTTLS.
//
// Shape: New(Options) validates once; Serve(net.Listener) runs one
// goroutine per connection (conn.serve), each with a recover that logs the
// stack and closes only that connection. The command table
// (newCommandTable) maps a name to its handler, the states it is valid
// in and flags; there is one file per command (cmd_*.go).
//
// State machine (RFC 3501 section 3): not authenticated -> (LOGIN,
// AUTHENTICATE) authenticated -> (SELECT, EXAMINE) selected -> (CLOSE,
// UNSELECT, failed SELECT) authenticated; LOGOUT from any state ends the
// connection. STARTTLS is valid only before authentication.
//
// Change announcements: a selected mailbox is a storage.Mailbox view that
// changes only when the connection syncs it or calls Store. Before FETCH,
// STORE, SEARCH and COPY the dispatcher applies the flag changes the store
// knows of (storage.SyncOptions.FlagsOnly), so they see the latest flags
// as Dovecot's commands do. At the end of each command it syncs and
// announces what changed: everything after most commands; everything but
// EXPUNGE after the sequence-number forms of FETCH, STORE, SEARCH and COPY
// (storage.SyncOptions.NoExpunges, RFC 3501 section 7.4.1), where messages
// expunged elsewhere stay in the view, with their last flags, until the
// next command that allows EXPUNGE. So the view's sequence numbers always
// equal the client's.
//
// Concurrency: a conn's fields are owned by its goroutine, except
// conn.mu's (read by Server.Shutdown). During IDLE a second, short-lived
// goroutine owns the buffered reader until it has read the client's line;
// cmdIdle always waits for it. Lock order: Server.mu, then conn.mu.
//
// Deviations: pre-login and post-login run in one process (DESIGN.md
// section 2), so imap-login and imap log prefixes are both written by
// this package.
package imapserver
