// Package staticdb implements the static passdb and userdb.
package staticdb
