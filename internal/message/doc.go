// Package message implements a tolerant MIME parser (RFC 5322, RFC 2045-2049) that matches Dovecot's view of malformed mail.
package message
