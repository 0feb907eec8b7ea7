package imapserver

import (
	"context"
	"strings"
	"testing"

	"roost/internal/login"
)

// referralAuth answers as a passdb with referral fields would: "moved"
// has nologin and host (NO [REFERRAL]), "visitor" has host only (OK
// [REFERRAL]), "custom" a referral URL.
type referralAuth struct{ *testAuth }

func (a referralAuth) Login(ctx context.Context, ci ConnInfo, user, pass string) (*Session, error) {
	switch user {
	case "moved":
		return nil, &login.Error{Kind: login.Nologin, Fields: map[string]string{"nologin": "", "host": "imap2.example.org"}}
	case "custom":
		return nil, &login.Error{Kind: login.Nologin, Reason: "Go there.",
			Fields: map[string]string{"nologin": "", "referral": "imap://custom@imap3.example.org:1143/"}}
	case "visitor":
		return &Session{User: "visitor", Login: &login.Session{User: "visitor",
			Fields: map[string]string{"host": "imap2.example.org", "port": "1143"}}}, nil
	}
	return a.testAuth.Login(ctx, ci, user, pass)
}

func (a referralAuth) Begin(ctx context.Context, ci ConnInfo, mech string) (Exchange, error) {
	return a.testAuth.Begin(ctx, ci, mech)
}

// TestLoginReferrals: RFC 2221 section 4.1 and 4.2 replies from passdb
// fields, worded as Dovecot's login process.
func TestLoginReferrals(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t)
	ts.srv.opts.Auth = referralAuth{ts.auth}
	c, _ := ts.dial()
	c.cmd("a1 LOGIN moved x").status("NO [REFERRAL imap://moved;AUTH=PLAIN@imap2.example.org/] Try this server instead.")
	c.cmd("a2 LOGIN custom x").status("NO [REFERRAL imap://custom@imap3.example.org:1143/] Go there.")
	r := c.cmd("a3 LOGIN visitor x").
		status("OK [REFERRAL imap://visitor;AUTH=PLAIN@imap2.example.org:1143/] Logged in, but you should use this server instead.")
	if len(r.untagged) != 1 || !strings.HasPrefix(r.untagged[0], "* CAPABILITY IMAP4rev1 ") {
		t.Fatalf("untagged %q, want the capability list", r.untagged)
	}
	c.cmd("a4 NOOP").ok()
}

func TestReferralURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fields     map[string]string
		user, want string
	}{
		{map[string]string{"host": "h"}, "a b", "imap://a%20b;AUTH=PLAIN@h/"},
		{map[string]string{"host": "h", "destuser": "d", "port": "143"}, "u", "imap://d;AUTH=PLAIN@h/"},
		{map[string]string{"host": "h/x"}, "u", ""},
		{map[string]string{}, "u", ""},
	} {
		if got := referralURL(tc.fields, tc.user, "PLAIN"); got != tc.want {
			t.Errorf("referralURL(%v) = %q, want %q", tc.fields, got, tc.want)
		}
	}
}
