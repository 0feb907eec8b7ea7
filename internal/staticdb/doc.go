// Package staticdb implements the static passdb and userdb, and the
// prefetch userdb (prefetch.go).
//
// Userdb args (Dovecot userdb-static.c): space-separated key=value
// templates, e.g. "uid=vmail gid=vmail home=/var/vmail/%d/%n", expanded per
// request; uid and gid names resolve through the system user and group
// databases when the userdb is created. allow_all_users=yes answers for
// any user; otherwise, unless the passdb chain already authenticated the
// request, the user must exist in the passdbs (checked with a passdb
// lookup, as Dovecot does for LMTP and doveadm).
//
// Passdb args: "password=<template>" (default scheme PLAIN) or
// "nopassword" (any password is accepted); other key=value pairs are
// returned as extra fields.
package staticdb
