package imapserver

import (
	"context"
	"errors"
	"strings"

	"roost/internal/imapwire"
	"roost/internal/storage"
)

// notifyEvents is a set of NOTIFY events (RFC 5465 section 5).
type notifyEvents uint16

// NOTIFY events.
const (
	evMessageNew notifyEvents = 1 << iota
	evMessageExpunge
	evFlagChange
	evAnnotationChange
	evMailboxName
	evSubscriptionChange
	evMailboxMetadataChange
	evServerMetadataChange

	// evMessages are the events answered with STATUS for a mailbox that
	// is not selected.
	evMessages = evMessageNew | evMessageExpunge | evFlagChange
	// evUnsupported: accepted by the grammar, refused with [BADEVENT]
	// as Dovecot does (no ANNOTATE; no METADATA change events).
	evUnsupported = evAnnotationChange | evMailboxMetadataChange | evServerMetadataChange
)

// notifyEventNames in RFC 5465's order, which [BADEVENT] follows.
var notifyEventNames = [...]struct {
	name string
	ev   notifyEvents
}{
	{"MessageNew", evMessageNew}, {"MessageExpunge", evMessageExpunge}, {"FlagChange", evFlagChange},
	{"AnnotationChange", evAnnotationChange}, {"MailboxName", evMailboxName},
	{"SubscriptionChange", evSubscriptionChange}, {"MailboxMetadataChange", evMailboxMetadataChange},
	{"ServerMetadataChange", evServerMetadataChange},
}

// notifyFilter is a filter-mailboxes of RFC 5465 section 6.
type notifyFilter uint8

// Mailbox filters.
const (
	filterSelected notifyFilter = iota + 1
	filterSelectedDelayed
	filterInboxes
	filterPersonal
	filterSubscribed
	filterSubtree
	filterMailboxes
)

var notifyFilterNames = map[string]notifyFilter{
	"SELECTED": filterSelected, "SELECTED-DELAYED": filterSelectedDelayed, "INBOXES": filterInboxes,
	"PERSONAL": filterPersonal, "SUBSCRIBED": filterSubscribed, "SUBTREE": filterSubtree,
	"MAILBOXES": filterMailboxes,
}

// notifyGroup is one event group: the mailboxes it covers and their
// events.
type notifyGroup struct {
	filter notifyFilter
	names  []string // SUBTREE and MAILBOXES
	events notifyEvents
}

// notifySet is a parsed NOTIFY SET.
type notifySet struct {
	status   bool
	selected *notifyGroup  // SELECTED or SELECTED-DELAYED, if given
	groups   []notifyGroup // the others, in the client's order
	fetch    *fetchRequest // MessageNew's fetch attributes (selected only)
	events   notifyEvents  // every event asked for
}

// errNotifyArgs is Dovecot's BAD for NOTIFY syntax it does not accept.
var errNotifyArgs = bad("", "Error in IMAP command NOTIFY: Invalid arguments")

// cmdNotify is NOTIFY (RFC 5465 section 3): NONE ends notifications;
// SET replaces them, and with STATUS first reports the status of every
// mailbox it covers.
func cmdNotify(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	var verb string
	if !d.SP() || !d.Atom(&verb) {
		return notifySyntax(d.Err())
	}
	switch strings.ToUpper(verb) {
	case "NONE":
		if !cmd.end() {
			return d.Err()
		}
		c.notifyOff()
		return nil
	case "SET":
	default:
		return errNotifyArgs
	}
	set, err := parseNotifySet(d)
	if err != nil {
		return err
	}
	if !d.ExpectCRLF() {
		return notifySyntax(d.Err())
	}
	if err := set.check(); err != nil {
		return err
	}
	w, ok := c.user.(storage.ChangeWatcher)
	if !ok {
		return no("", "NOTIFY is not supported by this mail storage")
	}
	prev := c.notify
	c.notifyOff()
	if set.events&evFlagChange != 0 {
		c.enableCondstore() // Dovecot does: STATUS then carries HIGHESTMODSEQ
	}
	if set.selected == nil && len(set.groups) == 0 {
		return nil // NOTIFY SET with no groups: nothing to report
	}
	return c.notifyOn(ctx, w, set, prev)
}

// notifySyntax turns a decoding failure into Dovecot's BAD; I/O errors
// pass.
func notifySyntax(err error) error {
	var se *imapwire.SyntaxError
	if err == nil || errors.As(err, &se) {
		return errNotifyArgs
	}
	return err
}

// parseNotifySet reads `[SP "STATUS"] *(SP event-group)` after SET.
func parseNotifySet(d *imapwire.Decoder) (*notifySet, error) {
	set := &notifySet{}
	first := true
	for d.SP() {
		if d.Special('(') {
			if err := set.parseGroup(d); err != nil {
				return nil, err
			}
			first = false
			continue
		}
		var a string
		if !first || !d.Atom(&a) || !strings.EqualFold(a, "STATUS") {
			return nil, notifySyntax(d.Err())
		}
		set.status, first = true, false
	}
	if d.Err() != nil {
		return nil, notifySyntax(d.Err())
	}
	return set, nil
}

// parseGroup reads `filter-mailboxes SP events ")"` after "(".
func (set *notifySet) parseGroup(d *imapwire.Decoder) error {
	var a string
	if !d.Atom(&a) {
		return notifySyntax(d.Err())
	}
	g := notifyGroup{filter: notifyFilterNames[strings.ToUpper(a)]}
	switch g.filter {
	case 0:
		return errNotifyArgs
	case filterSubtree, filterMailboxes:
		if !d.SP() || !readMailboxes(d, &g.names) {
			return notifySyntax(d.Err())
		}
	}
	sel := g.filter == filterSelected || g.filter == filterSelectedDelayed
	if err := set.parseEvents(d, &g, sel); err != nil {
		return err
	}
	if !d.Special(')') {
		return notifySyntax(d.Err())
	}
	set.events |= g.events
	if !sel {
		set.groups = append(set.groups, g)
		return nil
	}
	if set.selected != nil {
		return bad("", "Error in IMAP command NOTIFY: Duplicate selected filter")
	}
	set.selected = &g
	return nil
}

// readMailboxes reads one-or-more-mailbox.
func readMailboxes(d *imapwire.Decoder, names *[]string) bool {
	if !d.Special('(') {
		var n string
		if !d.ExpectMailbox(&n) {
			return false
		}
		*names = append(*names, n)
		return true
	}
	for {
		var n string
		if !d.ExpectMailbox(&n) {
			return false
		}
		*names = append(*names, n)
		if d.Special(')') {
			return true
		}
		if !d.ExpectSP() {
			return false
		}
	}
}

// parseEvents reads `SP ("NONE" / "(" event *(SP event) ")")`; only the
// selected filters take MessageNew's fetch attributes.
func (set *notifySet) parseEvents(d *imapwire.Decoder, g *notifyGroup, sel bool) error {
	var a string
	if !d.SP() {
		return notifySyntax(d.Err())
	}
	if d.Atom(&a) {
		if strings.EqualFold(a, "NONE") {
			return nil
		}
		return errNotifyArgs
	}
	if !d.Special('(') {
		return notifySyntax(d.Err())
	}
	for {
		if !d.Atom(&a) {
			return notifySyntax(d.Err())
		}
		ev := eventByName(a)
		if ev == 0 {
			return errNotifyArgs
		}
		g.events |= ev
		if d.Special(')') {
			return nil
		}
		if !d.SP() {
			return notifySyntax(d.Err())
		}
		if ev != evMessageNew || !peekByte(d, '(') {
			continue
		}
		if !sel {
			return errNotifyArgs
		}
		req, err := parseFetchAtts(d, false)
		if err != nil {
			return notifySyntax(err)
		}
		set.fetch = req
		if d.Special(')') {
			return nil
		}
		if !d.SP() {
			return notifySyntax(d.Err())
		}
	}
}

func peekByte(d *imapwire.Decoder, b byte) bool {
	p, err := d.Reader().Peek(1)
	return err == nil && p[0] == b
}

func eventByName(s string) notifyEvents {
	for _, e := range notifyEventNames {
		if strings.EqualFold(e.name, s) {
			return e.ev
		}
	}
	return 0
}

// check applies RFC 5465 section 5's rules as Dovecot words them, then
// refuses unsupported events with [BADEVENT].
func (set *notifySet) check() error {
	gs := set.groups
	if set.selected != nil {
		gs = append([]notifyGroup{*set.selected}, gs...)
	}
	for _, g := range gs {
		nw, ex := g.events&evMessageNew != 0, g.events&evMessageExpunge != 0
		if nw != ex {
			return bad("", "Error in IMAP command NOTIFY: MessageNew and MessageExpunge must be together")
		}
		if g.events&(evFlagChange|evAnnotationChange) != 0 && !nw {
			return bad("", "Error in IMAP command NOTIFY: FlagChange requires MessageNew and MessageExpunge")
		}
	}
	if u := set.events & evUnsupported; u != 0 {
		var names []string
		for _, e := range notifyEventNames {
			if u&e.ev != 0 {
				names = append(names, e.name)
			}
		}
		return no("BADEVENT "+strings.Join(names, " "), "Unsupported NOTIFY events")
	}
	return nil
}
