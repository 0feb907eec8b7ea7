package maildir

// SetUidlistKeep sets how many uidlist records a box keeps after a sync
// (uidlistKeepMax), so that tests of small mailboxes drop them too.
func SetUidlistKeep(d *Driver, n int) { d.uidlistKeep = n }
