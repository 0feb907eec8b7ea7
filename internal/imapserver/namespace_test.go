package imapserver

import (
	"testing"

	"roost/internal/storage"
)

// TestCourierNamespace uses a Courier-style namespace (prefix "INBOX.",
// separator ".") beside a public one.
func TestCourierNamespace(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		ts.namespaces = []storage.NamespaceConfig{
			{Name: "inbox", Type: "private", Prefix: "INBOX.", Separator: ".", Inbox: true, List: "yes", Subscriptions: true},
		}
		c := ts.login()
		c.cmd("a NAMESPACE").ok().equal(`* NAMESPACE (("INBOX." ".")) NIL NIL`)
		c.cmd("b CREATE INBOX.Sent").ok()
		c.cmd("c CREATE INBOX.a.b").ok()
		r := c.cmd(`d LIST "" *`).ok()
		r.has(`* LIST (\HasNoChildren) "." INBOX.Sent`).has(`* LIST (\HasNoChildren) "." INBOX.a.b`)
		c.cmd(`e LIST "" ""`).ok().equal(`* LIST (\Noselect) "." ""`)
		c.cmd(`f LIST "INBOX." %`).ok().has(`* LIST (\HasNoChildren) "." INBOX.Sent`).lacks(`* LIST (\HasNoChildren) "." INBOX.a.b`)
		c.cmd("g SELECT INBOX.Sent").ok()
		c.cmd("h STATUS INBOX.a.b (MESSAGES)").ok().equal(`* STATUS INBOX.a.b (MESSAGES 0)`)
	})
}
