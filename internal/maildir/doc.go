// Package maildir is the Maildir storage driver, compatible with Dovecot
// 2.3's on-disk format, so that Dovecot and roost can open each other's
// stores.
//
// On disk (all as Dovecot writes them):
//   - cur/ new/ tmp/ per mailbox; Maildir++ ".Sub.Folder" directories with
//     a "maildirfolder" marker, or LAYOUT=fs "Sub/Folder" directories;
//     names in modified UTF-7 (RFC 3501 section 5.1.3) unless :UTF-8.
//   - message files "<secs>.M<usecs>P<pid>.<host>,S=<size>,W=<vsize>:2,<flags>"
//     stored with LF line ends (mail_save_crlf=no) and presented in CRLF
//     form; the file mtime is the INTERNALDATE.
//   - dovecot-uidlist version 3 ("3 V<uidvalidity> N<nextuid> G<guid>",
//     then "<uid> [ext...] :<base>"), locked by dovecot-uidlist.lock
//     ("<pid>:<host>" written to ".temp.<host>.<pid>.<n>" and linked, so
//     never empty; overridden when neither it nor dovecot-uidlist changed
//     for 2 minutes, or when its process is gone), appended in place for
//     new messages and rewritten
//     through dovecot-uidlist.tmp and rename.
//   - dovecot-keywords ("<n> <keyword>", n 0..25 = letters a..z),
//     subscriptions (version 2: "V\t2\n\n", levels separated by TAB),
//     dovecot-uidvalidity (+ dovecot-uidvalidity.<hex>) for new UIDVALIDITYs.
//
// roost's own files (roost.modseq, roost.index*) never collide with
// Dovecot's; Dovecot's dovecot.index* files are never read.
//
// MODSEQs (modseq.go) are numbered as Dovecot's index numbers them: an
// empty mailbox at 1, one per change, and none per message until a client
// first uses them (all messages then share the HIGHESTMODSEQ of that
// moment); roost.modseq records that moment. Each server counts its own:
// a store moved from Dovecot to roost keeps its UIDs and flags, not its
// MODSEQs.
//
// Concurrency: one box (shared state) per mailbox directory, held by the
// Driver and shared by every view. Lock order: Driver.mu, box.mu, then the
// dotlocks (dovecot-uidlist.lock, dovecot-keywords.lock). Two box locks
// are never held at once (Copy snapshots the source, then commits to the
// destination). Changes are committed to disk first, then broadcast to
// views through their Notify channels, and to the user's change feed
// (feed.go, storage.ChangeWatcher, for IMAP NOTIFY): box.mu, then the feed
// table's and the hub's locks. Driver.Poll also compares the stamps of every
// mailbox of a user with a watcher, to find other processes' changes.
// A view woken through Notify syncs with SyncWoken (IMAP IDLE): when the
// first woken view of the box has already refreshed it from disk after
// the wake-up, the others take that refresh (one scan per change, not one
// per session); Sync always looks at the disk.
//
// Deviations: at most 26 keywords per mailbox (the file name letters); a
// 27th is refused with KindLimit, where Dovecot keeps it in its index only.
// CREATE's special-use flags that the configuration does not give the
// mailbox are kept as its "specialuse" attribute (Dovecot 2.3 ignores them).
//
// METADATA (attributes.go, attrdict.go): one Dovecot file dict per user,
// dovecot-attributes in the INBOX namespace's root unless
// mail_attribute_dict names another file, keyed by the mailbox GUID of
// dovecot-uidlist as Dovecot 2.3 keys it, locked with Dovecot's dotlock
// (dovecot-attributes.lock) and replaced through rename.
package maildir
