package maildir

import "roost/internal/mailindex"

// Names of roost's own per-mailbox files. They never collide with
// Dovecot's (dovecot.index*, dovecot-uidlist, dovecot-keywords).
const (
	indexFileName  = mailindex.IndexFile
	indexLogName   = mailindex.LogFile
	cacheFileName  = mailindex.CacheFile
	modseqFileName = "roost.modseq"
)
