// Package oauth2db implements the oauth2 passdb: OAuth 2.0 bearer tokens
// (OAUTHBEARER, XOAUTH2, or a token sent as a PLAIN password) checked by
// token introspection or local JWT validation, as Dovecot 2.3's
// passdb oauth2 reads dovecot-oauth2.conf.ext.
//
// Modes (introspection_mode):
//   - auth: GET introspection_url (or tokeninfo_url) with
//     "Authorization: Bearer TOKEN".
//   - get: GET tokeninfo_url (or introspection_url) with the token
//     appended, URL-escaped.
//   - post: RFC 7662 section 2.1, POST introspection_url with
//     token=TOKEN as application/x-www-form-urlencoded; client_id and
//     client_secret, when set, are sent as HTTP basic credentials.
//   - local: the token is a JWT (RFC 7519) verified here: HS256/384/512,
//     RS256/384/512, PS256/384/512 and ES256/384/512 (RFC 7518 section 3);
//     "none" is refused. Keys come from local_validation_key_dict
//     ("fs:posix:prefix=DIR/"), looked up as Dovecot does under
//     AZP/ALG/KID (azp and kid default to "default"; '.', '/' and '%' in
//     them escaped as %2e, %2f, %25): HMAC keys base64-encoded, RSA and EC
//     public keys in PEM. exp is required and must be in the future, nbf
//     and iat must not be; iss must be one of issuers when that is set.
//
// Then, for every mode: the username_attribute claim (default "email")
// must equal username_validation_format expanded for the request (default
// "%u"); active_attribute, when set, must equal active_value; every scope
// of "scope" must be in the token's space-separated scope. pass_attrs
// templates see the claims as %{oauth2:NAME}. A failed introspection
// request (network, non-2xx other than 401/403, bad JSON) is a temporary
// failure; a refused token is a password mismatch.
//
// Deviation: when client_id is set, local validation also requires it in
// the JWT's aud (Dovecot 2.4 behaviour; 2.3 does not check aud).
// grant_url/use_grant_password, openid_configuration_url and the tls_*
// settings are accepted and ignored (the system roots verify https).
package oauth2db
