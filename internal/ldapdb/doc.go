// Package ldapdb implements the ldap passdb and userdb (Dovecot 2.3
// passdb-ldap.c, userdb-ldap.c, db-ldap.c) over LDAPv3 (RFC 4511).
//
// The driver's args name a dovecot-ldap.conf.ext file of "key = value"
// lines: hosts or uris, dn/dnpass (service bind; anonymous without them),
// auth_bind, auth_bind_userdn, base, scope (base, onelevel, subtree),
// deref, pass_filter/pass_attrs, user_filter/user_attrs,
// iterate_filter/iterate_attrs, default_pass_scheme, ldap_version (3 only),
// tls (StartTLS), tls_ca_cert_file, tls_cert_file, tls_key_file and
// tls_require_cert. ldaps:// URIs use TLS from the start.
//
// Attribute maps are comma-separated "ldapAttr=field",
// "ldapAttr=field=template" or "=field=template" items. A template is a
// %-template in which %$ is the attribute's value and %{ldap:attr} any
// attribute of the entry (all requested from the server). A template
// whose attribute is absent from the entry sets no field; "=field=..."
// items are always set. A multi-valued attribute gives its first value,
// except for the "user" field of iteration, which yields every value.
//
// Escaping: %-variables in filters are escaped as RFC 4515 filter values
// (so "*", "(", ")", "\" and NUL in a user name match only themselves);
// in base and auth_bind_userdn as RFC 4514 DN values.
//
// auth_bind = yes checks passwords by binding as the user: the DN comes
// from auth_bind_userdn, or from a pass_filter search (which also returns
// pass_attrs, so prefetch works). Binds run on their own connections. An
// empty password is refused before any bind, since LDAP would take it as
// an anonymous bind (RFC 4513 section 5.1.2).
//
// A server that cannot be reached, a timeout or a search error is an
// internal failure, never an unknown user; a pass_filter or user_filter
// matching several entries is an internal failure too. Connections are
// pooled (MaxConns per pool) and every operation is bounded by the
// caller's context and Options.Timeout.
package ldapdb
