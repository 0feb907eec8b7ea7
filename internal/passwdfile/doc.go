// Package passwdfile implements Dovecot's passwd-file passdb and userdb.
//
// File format, one user per line (Dovecot db-passwd-file.c):
//
//	user:password:uid:gid:gecos:home:shell:extra_fields
//
// Every field after the user name is optional. extra_fields is the rest of
// the line (it may contain ':') split on spaces into key=value pairs;
// "userdb_"-prefixed ones are userdb fields. Dovecot's old format, an empty
// seventh field followed by a mail location, is read as userdb_mail. Blank
// lines and lines starting with '#' are ignored. A malformed line (bad uid
// or gid, uid/gid 0, duplicate user) is logged with file:line and skipped.
//
// The driver arguments are "[scheme=X] [username_format=%u] path"; the path
// may contain %-variables (per-domain files such as /etc/imap/%d/passwd).
// Files are read on first use, indexed by user name, and re-read when their
// mtime, size or inode changes; a missing file means unknown users, other
// read errors are internal failures.
//
// Lock order: DB.mu, then file.mu; neither is held while the other is
// being acquired.
package passwdfile
