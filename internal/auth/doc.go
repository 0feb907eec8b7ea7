// Package auth evaluates passdb and userdb chains as Dovecot does.
//
// An Auth holds the configured chains. VerifyPlain runs the passdb chain
// for a plaintext password, LookupCredentials runs it for stored
// credentials (challenge-response mechanisms, existence checks), and
// LookupUser runs the userdb chain. Drivers (passwdfile, staticdb, later
// sql, ldap) implement Passdb, Userdb and UserIterator; only server wires
// them in.
//
// Chain evaluation follows Dovecot 2.3 auth-request.c: each passdb has
// skip (never, authenticated, unauthenticated), deny, master, pass and the
// result_success / result_failure / result_internalfail rules (return,
// return-ok, return-fail, continue, continue-ok, continue-fail), defaulting
// to return-ok, continue, continue. A passdb that continues after a
// successful password check makes later passdbs skip the check. Extra
// fields of a passdb that failed are dropped; those of one that succeeded
// are kept. An internal failure anywhere in a chain that did not succeed
// is reported as InternalFail, never as UserUnknown. Userdbs have the same
// rules with skip = never, found, notfound.
//
// Master users: when the client gives a login user (SASL authzid, or
// "user*master" with auth_master_user_separator), the password is checked
// against the master passdbs for the master user; on success the session
// user becomes the login user, and with pass=yes the normal passdbs must
// also know that user (their password check is skipped).
//
// The failure delay (auth_failure_delay) is measured from the start of the
// attempt, so an unknown user, a wrong password and a temporary failure
// all answer at the same instant whatever the hashing cost. The clock and
// sleep are injected through Options.
package auth
