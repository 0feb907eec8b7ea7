// Package imapserver implements an IMAP4rev1 server (RFC 3501) over the
// storage API that also speaks IMAP4rev2 (RFC 9051) to a client that
// sends ENABLE IMAP4rev2 (feature_imap4rev2.go; both are advertised), and
// UTF8=ACCEPT (RFC 6855, RFC 9755; feature_utf8.go: UTF-8 mailbox names
// and quoted strings, APPEND UTF8 (...)), with IDLE (RFC 2177), NAMESPACE (RFC 2342), UIDPLUS (RFC
// 4315), UNSELECT (RFC 3691), CHILDREN (RFC 3348), ID (RFC 2971), ENABLE
// (RFC 5161), SASL-IR (RFC 4959), LITERAL+ and LITERAL- (RFC 7888), MOVE
// (RFC 6851), SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154), METADATA (RFC
// 5464, cmd_metadata.go, over storage.MetadataStore), LIST-EXTENDED selection and return
// options (RFC 5258), STATUS=SIZE (RFC 8438), CONDSTORE and QRESYNC (RFC
// 7162, feature_condstore.go), ESEARCH (RFC 4731), SEARCHRES (RFC 5182:
// SEARCH RETURN (SAVE), $ in SEARCH, FETCH, STORE, COPY, MOVE and UID
// EXPUNGE; FETCH $ answers as UID FETCH, as Dovecot), WITHIN (RFC 5032), SORT, ESORT, SORT=DISPLAY
// and THREAD ORDEREDSUBJECT/REFERENCES/REFS (RFC 5256, 5267, 5957;
// cmd_sort.go, keys from the field cache's header block), CONTEXT=SEARCH
// (RFC 5267: RETURN PARTIAL/CONTEXT/UPDATE, ADDTO/REMOVEFROM after each
// sync, CANCELUPDATE; feature_contextsearch.go), PREVIEW (RFC 8970) with
// Dovecot's PREVIEW=FUZZY and SNIPPET=FUZZY (feature_preview.go; the text
// is message.Snippet, cached at save as FieldPreview), SAVEDATE (RFC
// 8514), COMPRESS=DEFLATE (RFC 4978, cmd_compress.go, over package deflate),
// BINARY (RFC 3516; APPEND literal8 in append_binary.go), MULTIAPPEND (RFC
// 3502), CATENATE (RFC 4469) with URL-PARTIAL (RFC 5550), REPLACE (RFC
// 8508), APPENDLIMIT (RFC 7889, when Options.AppendLimit is set; the
// server sets it from quota_max_mail_size),
// LOGIN-REFERRALS (RFC 2221, feature_referral.go), NOTIFY (RFC 5465,
// cmd_notify.go and feature_notify.go, over storage.ChangeWatcher: events
// are written while the connection waits for a command, in IDLE and after
// commands) and STARTTLS.
// Options.MailEvents is told of APPEND, COPY/MOVE and flag changes
// (feature_imapsieve.go; the server package runs imapsieve, RFC 6785).
//
// APPEND is all or none (append_tx.go): a storage.TransactionalAppender
// driver commits every message at once; for others the messages are saved
// one by one and expunged again if a later one fails.
//
// Deviations under CONDSTORE: HIGHESTMODSEQ is sent on SELECT only after
// CONDSTORE is enabled (Dovecot also sends it for mailboxes whose modseqs
// were once enabled); after a sequence-number FETCH/STORE/SEARCH no
// HIGHESTMODSEQ is sent to a QRESYNC client (Dovecot sends the last fully
// synced one when it held back expunges).
//
// IDLE announces new and expunged messages at once and batches only flag
// changes for idleNotifyDelay. SEARCH keeps each message's folded
// BODY/TEXT search text for the selected mailbox (textCache, bounded).
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
// conn.mu's (read by Server.Shutdown and by the NOTIFY wake callback,
// which runs on the goroutine that changed the mail and only moves the
// read deadline). During IDLE a second, short-lived
// goroutine owns the buffered reader until it has read the client's line;
// cmdIdle always waits for it. conn.mu is taken alone: Shutdown collects
// the connections under connset's lock and asks each after releasing it.
//
// Deviations: pre-login and post-login run in one process (DESIGN.md
// section 2), so imap-login and imap log prefixes are both written by
// this package.
package imapserver
