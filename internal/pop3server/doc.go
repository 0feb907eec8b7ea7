// Package pop3server implements a POP3 server (RFC 1939) over the storage
// API, with CAPA and response codes (RFC 2449), STLS (RFC 2595), AUTH with
// SASL and initial responses (RFC 5034) and the AUTH-RESP-CODE extension
// (RFC 3206), behaving as Dovecot 2.3's pop3-login and pop3 processes.
//
// Shape: New(Options) validates once; Serve(net.Listener) runs one
// goroutine per connection (conn.serve) with a recover that logs the stack
// and closes only that connection. One command table (commands) maps a
// name to its handler and the state it is valid in; one file per command
// (cmd_*.go).
//
// State machine (RFC 1939 section 3): AUTHORIZATION (USER/PASS, APOP,
// AUTH, STLS, CAPA, QUIT) -> TRANSACTION (STAT, LIST, RETR, TOP, DELE,
// RSET, NOOP, UIDL, CAPA, QUIT) -> UPDATE, reached only through QUIT. The
// mailbox is INBOX. Its message list is fixed when the session starts:
// messages delivered later are not seen until the next session, and
// messages expunged by others answer "-ERR Message N expunged.".
//
// Changes: DELE only marks; QUIT expunges the marked messages (or adds
// pop3_deleted_flag with pop3_delete_type = flag). RETR marks a message
// \Seen unless pop3_no_flag_updates; the \Seen flags are written at QUIT,
// and also when the connection ends without QUIT (as Dovecot does),
// deletions never are. Opening INBOX claims \Recent, as Dovecot's
// MAILBOX_FLAG_DROP_RECENT does.
//
// UIDLs follow pop3_uidl_format as Dovecot's var_expand does: %v
// UIDVALIDITY, %u UID, %f and %g the storage ID and GUID (Maildir: the
// file's base name) when the mailbox implements StorageIDer / GUIDer, %m
// the header MD5, which Dovecot's Maildir storage does not have either
// (the UIDL command then fails and the session ends, as in Dovecot). A
// saved UIDL (UIDLStore, Dovecot's "P" uidlist field) wins over the
// format; pop3_reuse_xuidl takes the X-UIDL header.
//
// Concurrency: a conn's fields are owned by its goroutine, except conn.mu's
// (read by Server.Shutdown). conn.mu is taken alone: Shutdown collects
// the connections under connset's lock and asks each after releasing it.
//
// pop3_lock_session: a storage.User that implements SessionLocker takes
// Dovecot's dovecot-pop3-session.lock (the Maildir driver does), so a
// Dovecot POP3 session and a roost one exclude each other; the lock is
// taken after login, before INBOX is opened, waiting up to ten seconds as
// Dovecot does. Other storages lock within this process only.
//
// Deviations: pop3_client_workarounds, pop3_fast_size_lookups and
// pop3_uidl_duplicates = rename's interplay with saved UIDLs are not
// implemented. APOP is offered only when Options.APOP is set. Saved UIDLs
// are written when UIDL lists them (Dovecot writes them when its
// transaction commits, at QUIT or after ten idle seconds): the same
// fields, earlier.
package pop3server
