package imapserver

import "testing"

func TestCreateDeleteRename(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a CREATE foo/bar/").ok()
		c.cmd(`b LIST "" *`).ok().equal(
			`* LIST (\HasNoChildren) "/" INBOX`,
			`* LIST (\Noselect \HasChildren) "/" foo`,
			`* LIST (\HasNoChildren) "/" foo/bar`,
		)
		c.cmd("c CREATE INBOX").status("NO [ALREADYEXISTS] Mailbox already exists")
		c.cmd("d CREATE foo/bar").status("NO [ALREADYEXISTS] ")
		c.cmd("e DELETE INBOX").status("NO INBOX can't be deleted.")
		c.cmd("f DELETE nonexist").status("NO [NONEXISTENT] ")
		c.cmd("g RENAME nonexist x").status("NO [NONEXISTENT] ")
		c.cmd("h RENAME foo/bar baz").ok()
		want := []string{`* LIST (\HasNoChildren) "/" INBOX`, `* LIST (\HasNoChildren) "/" baz`}
		if isMaildir(driver) {
			// LAYOUT=fs keeps the emptied parent directory, as Dovecot does.
			want = append(want, `* LIST (\Noselect \HasNoChildren) "/" foo`)
		}
		c.cmd(`i LIST "" *`).ok().equal(want...)
		c.cmd("j CREATE Entw&APw-rfe").ok()
		c.cmd(`k LIST "" Entw*`).ok().equal(`* LIST (\HasNoChildren) "/" Entw&APw-rfe`)
		c.cmd("l CREATE &AOk").status("NO Mailbox name is not valid mUTF-7")
		c.cmd("m DELETE baz").ok()
		c.cmd(`n RENAME baz INBOX`).status("NO [ALREADYEXISTS]")
		c.cmd(`o CREATE "a b"`).ok()
		c.cmd(`p LIST "" "a b"`).ok().equal(`* LIST (\HasNoChildren) "/" "a b"`)
	})
}

func TestSubscribeLsub(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a CREATE foo/bar").ok()
		c.cmd("b SUBSCRIBE foo/bar").ok()
		c.cmd("c SUBSCRIBE INBOX").ok()
		c.cmd(`d LSUB "" *`).ok().equal(`* LSUB () "/" INBOX`, `* LSUB () "/" foo/bar`)
		c.cmd(`e LSUB "" %`).ok().equal(`* LSUB () "/" INBOX`, `* LSUB (\Noselect) "/" foo`)
		c.cmd(`f LIST (SUBSCRIBED) "" *`).ok().equal(`* LIST (\Subscribed) "/" INBOX`, `* LIST (\Subscribed) "/" foo/bar`)
		c.cmd(`g LIST (SUBSCRIBED RECURSIVEMATCH) "" %`).ok().equal(
			`* LIST (\Subscribed) "/" INBOX`,
			`* LIST (\NonExistent) "/" foo (CHILDINFO ("SUBSCRIBED"))`,
		)
		c.cmd("h UNSUBSCRIBE foo/bar").ok()
		c.cmd("h2 SUBSCRIBE nonexist").status("NO Mailbox doesn't exist: nonexist")
		c.cmd("h3 UNSUBSCRIBE nonexist").ok()
		c.cmd(`i LSUB "" *`).ok().equal(`* LSUB () "/" INBOX`)
		// Subscriptions survive the mailbox.
		c.cmd("j SUBSCRIBE foo/bar").ok()
		c.cmd("k DELETE foo/bar").ok()
		c.cmd(`l LIST (SUBSCRIBED) "" *`).ok().equal(`* LIST (\Subscribed) "/" INBOX`, `* LIST (\Subscribed \NonExistent) "/" foo/bar`)
	})
}

// TestRenameKeepsSubscriptions: as Dovecot's, RENAME leaves subscriptions
// alone; the old names stay subscribed (\NonExistent).
func TestRenameKeepsSubscriptions(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd("a CREATE A/B").ok()
		c.cmd("b SUBSCRIBE A/B").ok()
		c.cmd("c RENAME A C").ok()
		c.cmd(`d LSUB "" A*`).ok().equal(`* LSUB () "/" A/B`)
		c.cmd(`e LSUB "" C*`).ok().equal()
	})
}

// TestCreateSpecialUse: CREATE with USE (RFC 6154 section 3 examples).
// memstore keeps the attribute; maildir keeps only configured ones and
// refuses others with [USEATTR].
func TestCreateSpecialUse(t *testing.T) {
	t.Parallel()
	forDrivers(t, func(t *testing.T, driver string) {
		ts := newDriverServer(t, driver)
		c := ts.login()
		c.cmd(`a1 CREATE MySpecial (USE (\Drafts \Sent))`).ok()
		c.cmd(`a2 CREATE Foo (USE (\Bogus))`).status("NO [USEATTR] Unsupported special-use attribute \\Bogus")
		c.cmd(`a3 CREATE Foo (BOGUS)`).status("BAD Error in IMAP command CREATE: Unknown CREATE parameter BOGUS")
		c.cmd(`a4 CREATE Foo ()`).ok() // Dovecot accepts an empty list too
		c.cmd(`a5 CREATE Plain (USE ())`).ok()
		c.cmd(`a6 LIST "" MySpecial RETURN (SPECIAL-USE)`).ok().equal(`* LIST (\Drafts \Sent) "/" MySpecial`)
	})
}
