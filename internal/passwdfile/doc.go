// Package passwdfile implements Dovecot's passwd-file passdb and userdb.
package passwdfile
