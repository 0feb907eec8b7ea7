// Package mailindex is roost's own per-mailbox index: a header, fixed-width
// records, an append-only transaction log and a field cache.
//
// The index is a cache: storage drivers can always rebuild it from the
// mail files. Every file carries CRC-32C checksums, so a torn or corrupt
// write is detected and reported as ErrCorrupt (the driver then rebuilds);
// a torn tail of the log or the cache is cut off and the rest kept.
//
// Files in the index directory (names chosen not to collide with
// Dovecot's dovecot.index*):
//
//	roost.index      header, records and record names; rewritten through
//	                 a temporary file and rename (a checkpoint)
//	roost.index.log  transactions since the checkpoint: upserts, expunges
//	                 and header updates, each a checksummed frame; the log
//	                 names the checkpoint generation it applies to
//	roost.cache      field cache frames (uid, name, value), append-only,
//	                 compacted at checkpoints
//
// A field whose name ends in HotSuffix (".keys": SORT and THREAD keys,
// read for every message of a mailbox at once) is also kept in memory
// from the open on, so passes over it read no file. ScanField reads any
// other field of many messages in large sequential reads.
//
// An Index is not safe for concurrent use; its owner (the driver's shared
// mailbox state) serialises access.
package mailindex
