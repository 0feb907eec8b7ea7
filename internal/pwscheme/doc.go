// Package pwscheme reads, verifies and generates Dovecot's {SCHEME}-prefixed password hashes.
//
// A stored password is "{SCHEME}value" or "{SCHEME.ENCODING}value" where
// ENCODING is HEX, B64 or BASE64 (Dovecot's password_get_scheme and
// password_decode). A string with no prefix is verified with a default
// scheme chosen by the caller (default_pass_scheme); a bare "$1$salt$hash"
// is MD5-CRYPT, as in Dovecot.
//
// Schemes implemented (verify and generate): PLAIN, CLEAR, CLEARTEXT,
// PLAIN-TRUNC (verify only), CRYPT (dispatching on $1$, $5$, $6$, $2?$ and
// traditional DES), DES-CRYPT, MD5-CRYPT, MD5, SHA256-CRYPT, SHA512-CRYPT,
// BLF-CRYPT, PLAIN-MD4, PLAIN-MD5, LDAP-MD5, SMD5, SHA, SHA1, SSHA, SHA256,
// SSHA256, SHA512, SSHA512, CRAM-MD5, HMAC-MD5, DIGEST-MD5, NTLM, LANMAN,
// PBKDF2, SCRAM-SHA-1, SCRAM-SHA-256, ARGON2I, ARGON2ID.
//
// Not implemented: OTP, SKEY, RPA (obsolete Dovecot schemes), and crypt(3)
// methods Dovecot reaches only through libxcrypt ($y$ yescrypt, $gy$,
// extended "_" DES).
//
// The SHA-crypt (Drepper), MD5-crypt (Kamp) and DES crypt (V7 Unix)
// algorithms are implemented here in pure Go. Every comparison of a computed
// hash with a stored one is constant-time.
//
// Deliberate deviation: BLF-CRYPT passwords longer than 72 bytes are
// truncated to 72, as crypt_blowfish (which Dovecot uses) does, rather than
// refused as golang.org/x/crypto/bcrypt would.
package pwscheme
