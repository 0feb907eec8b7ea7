// Package sievestore implements Pigeonhole-compatible Sieve script storage
// for one user: the scripts as plain files NAME.sieve in the storage
// directory (sieve_dir, or the path of a `sieve = file:DIR;active=LINK`
// location), the active script as a symbolic link (~/.dovecot.sieve ->
// sieve/NAME.sieve), the global scripts (sieve_default, the old
// sieve_global_path and global_script_path, sieve_global_dir,
// sieve_before/sieve_after and their numbered variants), the script quotas
// (sieve_quota_max_scripts, sieve_quota_max_storage,
// sieve_max_script_size), the per-user duplicate/vacation memory, and a
// compile cache keyed by path, size and modification time.
//
// RFCs: RFC 5804 section 1.7 (script names), RFC 6609 (personal and global
// include locations).
//
// Layout rules, as Pigeonhole: a script is written to DIR/tmp first and
// renamed into place, so a reader never sees half a script; activation
// replaces the link atomically (a new link renamed over the old one); a
// regular file where the link belongs is never lost: activation moves it
// into the storage as "dovecot.orig" first. Compiled ".svbin" files are
// ignored and never written: compiled programs are cached in memory.
//
// Deviation: the duplicate/vacation memory is roost's own text file
// (~/.roost.lda-dupes), not Dovecot's binary ~/.dovecot.lda-dupes, so that
// neither server misreads the other's file during a migration.
package sievestore
