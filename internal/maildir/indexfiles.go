package maildir

// Names of roost's own per-mailbox files. They never collide with
// Dovecot's (dovecot.index*, dovecot-uidlist, dovecot-keywords).
const (
	indexFileName  = "roost.index"
	indexLogName   = "roost.index.log"
	modseqFileName = "roost.modseq"
)
