package varexpand

import (
	"errors"
	"strings"
	"testing"
)

var testVars = Map{
	"user": "Tux.Penguin@Example.COM", "username": "Tux.Penguin", "domain": "Example.COM",
	"home": "/home/mail/tux", "service": "imap", "rip": "192.0.2.7", "lip": "192.0.2.1",
	"pid": "12345", "session": "abcDEF", "uid": "1000", "num": "255", "space": "x  ",
}

func TestExpand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"%u", "Tux.Penguin@Example.COM"},
		{"%n@%d", "Tux.Penguin@Example.COM"},
		{"%{user} %{username} %{domain}", "Tux.Penguin@Example.COM Tux.Penguin Example.COM"},
		{"%h %{home}", "/home/mail/tux /home/mail/tux"},
		{"%s %r %l %p %i", "imap 192.0.2.7 192.0.2.1 12345 1000"},
		{"%{service} %{rip} %{lip} %{session}", "imap 192.0.2.7 192.0.2.1 abcDEF"},
		{"%Lu", "tux.penguin@example.com"},
		{"%Ln", "tux.penguin"},
		{"%Ld", "example.com"},
		{"%Uu", "TUX.PENGUIN@EXAMPLE.COM"},
		{"%L{user}", "tux.penguin@example.com"},
		{"maildir:/var/vmail/%d/%n/Maildir", "maildir:/var/vmail/Example.COM/Tux.Penguin/Maildir"},
		{"%1Lu", "t"},
		{"%2n", "Tu"},
		{"%2.1n", "x"},
		{"%3.2Ln", ".p"},
		{"%-2.2p", "45"},
		{"%-3p", "12"},
		{"%08p", "00012345"},
		{"%Xu", "0"},
		{"%X{num}", "ff"},
		{"%Rn", "niugneP.xuT"},
		{"%Mn", "9bc14f7b3b9d8c36d0c60b6d0d1c1d84"},
		{"%Dd", "Example,dc=COM"},
		{"%T{space}!", "x!"},
		{"%E{x}", `a\"b\\c\'`},
		{"quota_grace = 10%%", "quota_grace = 10%"},
		{"100%", "100%"},
		{"%{env:ROOST_TEST}", "envval"},
		{"%Hn", "1a0c0e6e"},
		{"%256Hn", "6e"},
		{"%4.256Hn", "006e"},
	} {
		e := Expander{Vars: Map(merge(testVars, Map{"x": `a"b\c'`})), Getenv: func(n string) string {
			if n == "ROOST_TEST" {
				return "envval"
			}
			return ""
		}}
		got, err := e.Expand(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
		}
		if tc.in == "%Mn" {
			tc.want = md5hex("Tux.Penguin")
		}
		switch tc.in {
		case "%Hn":
			tc.want = hexOf(strHash("Tux.Penguin"))
		case "%256Hn":
			tc.want = hexOf(strHash("Tux.Penguin") % 256)
		case "%4.256Hn":
			tc.want = "00" + hexOf(strHash("Tux.Penguin")%256)
		}
		if got != tc.want {
			t.Errorf("%q = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnknown(t *testing.T) {
	t.Parallel()
	got, err := Expand("a %z b %{nosuch} c %u", testVars)
	if got != "a %z b %{nosuch} c Tux.Penguin@Example.COM" {
		t.Errorf("got %q", got)
	}
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), `"%z"`) {
		t.Errorf("err = %v", err)
	}
	if got, err := Expand("%{unterminated", testVars); got != "%{unterminated" || err != nil {
		t.Errorf("unterminated: %q %v", got, err)
	}
}

func TestEscapeHook(t *testing.T) {
	t.Parallel()
	e := Expander{
		Vars:   Map{"user": "o'brien"},
		Escape: func(s string) string { return strings.ReplaceAll(s, "'", "''") },
	}
	got, err := e.Expand("SELECT * FROM users WHERE email = '%u' AND x = '%%'")
	if err != nil || got != "SELECT * FROM users WHERE email = 'o''brien' AND x = '%'" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestLookupFunc(t *testing.T) {
	t.Parallel()
	f := LookupFunc(func(n string) (string, bool) { return strings.ToUpper(n), n != "q" })
	if got, _ := Expand("%a%{bc}", f); got != "ABC" {
		t.Errorf("got %q", got)
	}
}

func merge(a, b Map) Map {
	out := Map{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
