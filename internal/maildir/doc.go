// Package maildir is the Maildir storage driver, compatible with Dovecot's on-disk format.
package maildir
