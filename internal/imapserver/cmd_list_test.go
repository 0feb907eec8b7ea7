package imapserver

import (
	"strings"
	"testing"

	"roost/internal/storage"
)

// specialUseServer has Dovecot's example namespace: Sent (auto subscribe)
// and Trash (auto create) with special-use flags.
func specialUseServer(t *testing.T) *testServer {
	ts := newTestServer(t)
	ts.namespaces = []storage.NamespaceConfig{{
		Name: "inbox", Type: "private", Separator: "/", Inbox: true, List: "yes", Subscriptions: true,
		Mailboxes: []storage.MailboxConfig{
			{Name: "Sent", SpecialUse: []string{`\Sent`}, Auto: "subscribe"},
			{Name: "Trash", SpecialUse: []string{`\Trash`}, Auto: "create"},
		},
	}}
	return ts
}

func TestListSpecialUse(t *testing.T) {
	t.Parallel()
	ts := specialUseServer(t)
	c := ts.login()
	c.cmd("a CREATE foo/bar/").ok()
	c.cmd(`b LIST "" *`).ok().equal(
		`* LIST (\HasNoChildren) "/" INBOX`,
		`* LIST (\HasNoChildren \Sent) "/" Sent`,
		`* LIST (\HasNoChildren \Trash) "/" Trash`,
		`* LIST (\Noselect \HasChildren) "/" foo`,
		`* LIST (\HasNoChildren) "/" foo/bar`,
	)
	c.cmd(`c LSUB "" *`).ok().equal(`* LSUB (\Sent) "/" Sent`)
	c.cmd(`d LIST "" %`).ok().equal(
		`* LIST (\HasNoChildren) "/" INBOX`,
		`* LIST (\HasNoChildren \Sent) "/" Sent`,
		`* LIST (\HasNoChildren \Trash) "/" Trash`,
		`* LIST (\Noselect \HasChildren) "/" foo`,
	)
	c.cmd(`e LIST "" ""`).ok().equal(`* LIST (\Noselect) "/" ""`)
	c.cmd(`f LIST (SPECIAL-USE) "" *`).ok().equal(`* LIST (\Sent) "/" Sent`, `* LIST (\Trash) "/" Trash`)
	c.cmd(`g LIST "" * RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)`).ok().equal(
		`* LIST (\HasNoChildren) "/" INBOX`,
		`* LIST (\Subscribed \HasNoChildren \Sent) "/" Sent`,
		`* LIST (\HasNoChildren \Trash) "/" Trash`,
		`* LIST (\NonExistent \HasChildren) "/" foo`,
		`* LIST (\HasNoChildren) "/" foo/bar`,
	)
	c.cmd(`h LIST "" (INBOX sent Sent)`).ok().equal(`* LIST () "/" INBOX`, `* LIST () "/" Sent`)
	c.cmd(`i LIST (RECURSIVEMATCH) "" *`).status("BAD Error in IMAP command LIST: RECURSIVEMATCH must not be the only selection")
	c.cmd(`j LIST (BOGUS) "" *`).status("BAD Error in IMAP command LIST: Unknown select options")
	// LIST-STATUS (RFC 5819): STATUS after the LIST lines up to the next
	// selectable mailbox, as Dovecot.
	c.cmd(`k LIST "" * RETURN (STATUS (MESSAGES))`).ok().equal(`* LIST () "/" INBOX`, `* STATUS INBOX (MESSAGES 0)`,
		`* LIST () "/" Sent`, `* STATUS Sent (MESSAGES 0)`, `* LIST () "/" Trash`, `* LIST (\NonExistent) "/" foo`,
		`* STATUS Trash (MESSAGES 0)`, `* LIST () "/" foo/bar`, `* STATUS foo/bar (MESSAGES 0)`)
	c.cmd(`k2 LIST "" * RETURN (STATUS (BOGUS))`).status("BAD Error in IMAP command LIST: Invalid status item BOGUS")
	c.cmd(`l LIST (REMOTE) "" inbox`).ok().equal(`* LIST () "/" INBOX`)
}

func TestListPatterns(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		for _, name := range []string{"a", "a/b", "a/b/c", "ab", "x%y", "INBOX/child"} {
			c.cmd("c CREATE " + quoteTest(name)).ok()
		}
		tests := []struct {
			ref, pat string
			want     []string
		}{
			{`""`, "%", []string{"INBOX", "a", "ab", "x%y"}},
			{`""`, "a%", []string{"a", "ab"}},
			{`""`, "a*", []string{"a", "a/b", "a/b/c", "ab"}},
			{`""`, "a/%", []string{"a/b"}},
			{`""`, "*/c", []string{"a/b/c"}},
			{`""`, "%/%/%", []string{"a/b/c"}},
			{"a/", "%", []string{"a/b"}},
			{"a/", "*", []string{"a/b", "a/b/c"}},
			{`""`, "inbox", []string{"INBOX"}},
			{`""`, "InBoX/*", []string{"INBOX/child"}},
			{`""`, "A", nil},
			{`""`, `"x%y"`, []string{"x%y"}},
			{`""`, "***%%%***c", []string{"a/b/c"}},
		}
		for _, tt := range tests {
			r := c.cmd("l LIST " + tt.ref + " " + tt.pat).ok()
			var got []string
			for _, l := range r.untagged {
				got = append(got, listName(l))
			}
			if !equalStrings(got, tt.want) {
				t.Errorf("LIST %s %s = %q, want %q", tt.ref, tt.pat, got, tt.want)
			}
		}
		c.cmd(`m LIST "a/b" ""`).ok().equal(`* LIST (\Noselect) "/" a/`)
	})
}

// listName returns the unquoted mailbox name of a LIST line.
func listName(l string) string {
	i := len(l) - 1
	if l[i] != '"' {
		for i > 0 && l[i-1] != ' ' {
			i--
		}
		return l[i:]
	}
	j := i - 1
	for j > 0 && l[j] != '"' {
		j--
	}
	return l[j+1 : i]
}

func quoteTest(s string) string { return `"` + s + `"` }

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListPatternMatcher(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"*", "", true}, {"%", "a/b", false}, {"a*b", "a/x/b", true}, {"a%b", "a/b", false},
		{"%/%", "a/b", true}, {"*%", "a/b", true}, {"inbox", "INBOX", true}, {"inboxes", "INBOXES", false},
		{"a", "A", false}, {"%a%a%a%a%a%a%a%a%a%a%a%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
	}
	for _, tt := range tests {
		if got := newListPattern(tt.pat, "/").match(tt.name); got != tt.want {
			t.Errorf("match(%q, %q) = %v", tt.pat, tt.name, got)
		}
	}
}

func FuzzListPattern(f *testing.F) {
	f.Add("a*b%c", "a/x/bc")
	f.Add("%%%*", "INBOX/x")
	f.Fuzz(func(t *testing.T, pat, name string) {
		p := newListPattern(pat, "/")
		if !p.match(name) {
			return
		}
		if pat == name && !strings.ContainsAny(pat, "*%") && p.literals != len(name) {
			t.Fatalf("literal count %d for %q", p.literals, pat)
		}
	})
}
