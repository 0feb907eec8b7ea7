// Package imap is the IMAP vocabulary: flags, sequence sets, modified UTF-7 mailbox names, ENVELOPE and BODYSTRUCTURE encoders.
package imap
