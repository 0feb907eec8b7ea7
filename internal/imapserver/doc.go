// Package imapserver implements an IMAP4rev1 server (RFC 3501) over the storage API.
package imapserver
