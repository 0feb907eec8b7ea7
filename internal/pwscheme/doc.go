// Package pwscheme reads, verifies and generates Dovecot's {SCHEME}-prefixed password hashes.
package pwscheme
