// Package varexpand implements Dovecot's %-variable expansion (%u, %{user}, %Lu, ...).
package varexpand
