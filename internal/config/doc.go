// Package config parses Dovecot 2.3 configuration syntax into a tree that keeps file:line.
package config
