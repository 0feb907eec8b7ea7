package imapserver

import (
	"context"
	"strings"

	"roost/internal/imapwire"
	"roost/internal/storage"
)

// cmdCreate is CREATE (RFC 3501 section 6.3.3) with RFC 4466's create
// parameters and RFC 6154's USE (special-use attributes). A trailing
// separator is dropped ("foo/" creates foo); missing parents are created
// by storage.
func cmdCreate(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) {
		return dec.Err()
	}
	var use []string
	if dec.SP() {
		var err error
		if use, err = createParams(dec); err != nil {
			return err
		}
	}
	if !cmd.end() {
		return dec.Err()
	}
	sep := c.nsFor(name).Separator
	if sep != "" {
		name = strings.TrimSuffix(name, sep)
	}
	if name == "" {
		return no("CANNOT", "Invalid mailbox name: Name is empty")
	}
	if strings.EqualFold(name, "INBOX") {
		return no("ALREADYEXISTS", "Mailbox already exists")
	}
	if err := c.user.Create(ctx, name, use); err != nil {
		if len(use) > 0 && storage.KindOf(err) == storage.KindNotPossible {
			return no("USEATTR", storage.ClientText(err))
		}
		return c.storageError("create "+name, err)
	}
	c.writeNormalisedName(dec.SentMailbox(), name)
	return nil
}

// specialUses are the attributes CREATE's USE accepts (RFC 6154 section
// 2, RFC 8457 \Important).
var specialUses = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`, `\Important`}

// createParams reads "(" create-param *(SP create-param) ")" (RFC 4466
// section 2.2); USE (RFC 6154 section 3) is the only parameter known.
func createParams(dec *imapwire.Decoder) ([]string, error) {
	var use []string
	unknown := ""
	ok := dec.ExpectList(func() bool {
		var p string
		if !dec.ExpectAtom(&p) {
			return false
		}
		if !strings.EqualFold(p, "USE") {
			unknown = p
			return dec.Fail("Unknown CREATE parameter " + strings.ToUpper(p))
		}
		return dec.ExpectSP() && dec.ExpectList(func() bool {
			var f string
			if !dec.ExpectFlag(&f) {
				return false
			}
			for _, su := range specialUses {
				if strings.EqualFold(su, f) {
					use = append(use, su)
					return true
				}
			}
			unknown = f
			return true
		})
	})
	if !ok {
		return nil, dec.Err()
	}
	for _, su := range use {
		if su == `\All` || su == `\Flagged` {
			// RFC 6154 section 3: virtual mailboxes roost does not have.
			return nil, no("USEATTR", su+" not supported")
		}
	}
	if unknown != "" {
		return nil, no("USEATTR", "Unsupported special-use attribute "+unknown)
	}
	return use, nil
}

// cmdDelete is DELETE (RFC 3501 section 6.3.4).
func cmdDelete(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) || !cmd.end() {
		return dec.Err()
	}
	if name == "INBOX" {
		return no("", "INBOX can't be deleted.")
	}
	if err := c.user.Delete(ctx, name); err != nil {
		return c.storageError("delete "+name, err)
	}
	if c.sel != nil && c.sel.name == name {
		// As Dovecot: the session cannot go on with its mailbox gone.
		c.after = c.mailboxGone
	}
	return nil
}

// cmdRename is RENAME (RFC 3501 section 6.3.5). Renaming INBOX moves its
// messages into a new mailbox and leaves INBOX empty; storage does that.
func cmdRename(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var from, to string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&from) || !dec.ExpectSP() || !dec.ExpectMailbox(&to) || !cmd.end() {
		return dec.Err()
	}
	if sep := c.nsFor(to).Separator; sep != "" {
		to = strings.TrimSuffix(to, sep)
	}
	if to == "INBOX" {
		return no("ALREADYEXISTS", "Target mailbox already exists")
	}
	if err := c.user.Rename(ctx, from, to); err != nil {
		return c.storageError("rename "+from, err)
	}
	c.writeNormalisedName(dec.SentMailbox(), to)
	return nil
}

// cmdSubscribe is SUBSCRIBE and UNSUBSCRIBE (RFC 3501 sections 6.3.6 and
// 6.3.7). As in Dovecot, only existing mailboxes can be subscribed to;
// subscriptions outlive their mailboxes and can always be removed.
func cmdSubscribe(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) || !cmd.end() {
		return dec.Err()
	}
	if cmd.name == "SUBSCRIBE" {
		// Dovecot refuses to subscribe to a mailbox that does not exist.
		if _, err := c.user.Status(ctx, name); err != nil {
			return c.lookupError("subscribe "+name, err)
		}
	}
	if err := c.user.SetSubscribed(ctx, name, cmd.name == "SUBSCRIBE"); err != nil {
		return c.lookupError(strings.ToLower(cmd.name)+" "+name, err)
	}
	return nil
}
