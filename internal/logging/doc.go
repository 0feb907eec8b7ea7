// Package logging writes log lines in Dovecot's shape to stderr, a file or syslog.
package logging
