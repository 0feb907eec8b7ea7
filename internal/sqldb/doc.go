// Package sqldb implements the sql passdb and userdb (Dovecot 2.3
// passdb-sql.c, userdb-sql.c and the pgsql, mysql and sqlite drivers).
//
// The driver's args name a dovecot-sql.conf.ext file of "key = value"
// lines: driver (pgsql, mysql, sqlite), connect, password_query,
// user_query, iterate_query and default_pass_scheme, with Dovecot's
// defaults. The connect string is Dovecot's: space-separated key=value
// pairs for pgsql and mysql (several host= entries are tried in order,
// maxconns= bounds each host's pool, default 5) and a file path for
// sqlite.
//
// Queries are %-templates. Every variable's value is escaped for the
// driver before it is inserted, as Dovecot does: single quotes are
// doubled for PostgreSQL (the session forces standard_conforming_strings
// on, so a backslash is never special) and SQLite; MySQL gets
// mysql_real_escape_string's backslash escapes, with the session's
// sql_mode cleared of NO_BACKSLASH_ESCAPES so that they hold. A value
// holding a NUL byte cannot name a user and is refused before any query.
//
// Result columns become fields: password (or password_noscheme, whose
// value is never read as "{SCHEME}..."), user or username/domain (rename
// the user), nopassword, nologin, reason, allow_nets, userdb_* (prefetch)
// and any other extra field. A NULL column is no field. A password query
// must return a password column and at most one row; a user query's first
// row is used.
//
// A query that cannot be answered (server down, timeout, bad SQL) is an
// internal failure, never an unknown user. Each query runs under the
// caller's context bounded by Options.QueryTimeout, and the per-host pool
// bounds concurrent queries, so a slow database delays only the logins
// that use it.
package sqldb
