package imapserver

import (
	"errors"
	"net/url"
	"strings"

	"roost/internal/login"
)

// Login referrals (RFC 2221), driven by passdb extra fields as Dovecot's
// login process does: a login that passdb answers with "host" (and no
// "proxy") is referred to that server: with "nologin" the login fails
// with NO [REFERRAL url], otherwise it succeeds with OK [REFERRAL url]. A
// "referral" field gives the whole URL instead (a roost addition).

const defaultIMAPPort = "143"

// referralURL builds the IMAP URL of a referral (RFC 5092 section 6:
// imap://user;AUTH=mech@host[:port]/), or "" when fields name no server.
func referralURL(fields map[string]string, user, mech string) string {
	if u := fields["referral"]; u != "" && !strings.ContainsAny(u, "[]\r\n") {
		return u
	}
	host := fields["host"]
	if host == "" || strings.ContainsAny(host, "/[]@ \r\n") {
		return ""
	}
	if d := fields["destuser"]; d != "" {
		user = d
	} else if u := fields["user"]; u != "" {
		user = u
	}
	var b strings.Builder
	b.WriteString("imap://")
	if user != "" {
		b.WriteString(url.PathEscape(user))
		if mech != "" {
			b.WriteString(";AUTH=" + url.PathEscape(mech))
		}
		b.WriteString("@")
	}
	b.WriteString(host)
	if p := fields["port"]; p != "" && p != defaultIMAPPort && isDigits(p) {
		b.WriteString(":" + p)
	}
	b.WriteString("/")
	return b.String()
}

// nologinReferral turns a passdb nologin with a referral host into
// Dovecot's NO [REFERRAL url] reply; nil when err is something else.
func nologinReferral(err error, user, mech string) error {
	var le *login.Error
	if !errors.As(err, &le) || le.Kind != login.Nologin {
		return nil
	}
	if le.Fields.Has("proxy") {
		return nil
	}
	u := referralURL(le.Fields, user, mech)
	if u == "" {
		return nil
	}
	text := le.Reason
	if text == "" {
		text = "Try this server instead."
	}
	return no("REFERRAL "+u, text)
}

// loginReferral is the OK [REFERRAL url] of a successful login whose
// passdb named another server, or "".
func loginReferral(s *Session) (code, text string) {
	if s.Login == nil || s.Login.Fields.Has("proxy") {
		return "", ""
	}
	u := referralURL(s.Login.Fields, s.User, s.Method)
	if u == "" {
		return "", ""
	}
	text = s.Login.Fields["reason"]
	if text == "" {
		text = "Logged in, but you should use this server instead."
	}
	return "REFERRAL " + u, text
}
