// Package varexpand implements Dovecot 2.3's %-variable expansion
// (lib/var-expand.c as documented in the Dovecot wiki "Variables" page):
//
//	%x            one-letter variable x (%u, %n, %d, %h, %s, %r, %l, %p, %i ...)
//	%{name}       long variable name (%{user}, %{home}, %{rip}, %{session} ...)
//	%{env:NAME}   environment variable NAME
//	%%            a literal %
//
// Between the % and the variable may come, in this order: an optional
// "[-]offset." (skip offset bytes, or start -offset bytes from the end), an
// optional width (keep width bytes; a leading 0 pads with zeros to width
// instead of truncating), and modifiers applied left to right:
//
//	L lower case      U upper case      E escape \ " ' with \
//	R reverse         X decimal to hex  M MD5 as hex
//	H 32-bit string hash as hex (width is the modulus)
//	N MD5-based hash as hex (width is the modulus)
//	D domain to LDAP DN tail ("a.b.c" -> "a,dc=b,dc=c")
//	T trim trailing white space
//
// An unknown variable is left in the output as written and reported as an
// error, the output still being usable (Dovecot logs and carries on).
// Expansion works on bytes, as Dovecot does.
package varexpand
