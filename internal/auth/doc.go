// Package auth evaluates passdb and userdb chains as Dovecot does.
package auth
