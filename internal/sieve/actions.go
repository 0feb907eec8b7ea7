package sieve

import (
	"strings"

	"roost/internal/message"
)

// add appends an action, merging duplicates and checking conflicts and
// limits as Pigeonhole does.
func (r *runner) add(n *node, a *Action) error {
	a.Line = n.Pos.Line
	if r.edits && (isStore(a) || a.Kind == ActRedirect) {
		a.Message = r.editedMessage() // RFC 5293 section 5: the message as edited so far
	}
	res := r.res
	for _, old := range res.Actions {
		if dup, err := r.duplicate(n, old, a); err != nil || dup {
			return err
		}
	}
	if err := r.conflicts(n, a); err != nil {
		return err
	}
	if a.Kind == ActRedirect {
		res.redirects++
		if max := r.cfg.MaxRedirects; res.redirects > max {
			return r.errorf(n, "number of redirect actions exceeds policy limit (%d > %d)", res.redirects, max)
		}
	}
	if max := r.cfg.MaxActions; len(res.Actions) >= max && max > 0 {
		return r.errorf(n, "total number of actions exceeds policy limit (%d > %d)", len(res.Actions)+1, max)
	}
	res.Actions = append(res.Actions, a)
	return nil
}

// duplicate reports whether a repeats old (and merges it into old).
func (r *runner) duplicate(n *node, old, a *Action) (bool, error) {
	switch {
	case isStore(old) && isStore(a) && old.Mailbox == a.Mailbox:
		old.Flags = a.Flags // the last flag list wins (RFC 5232 section 3.3)
		old.Copy = old.Copy && a.Copy
		old.Create = old.Create || a.Create
		if a.Kind == ActKeep {
			old.Kind = ActKeep
		}
		return true, nil
	case old.Kind == ActRedirect && a.Kind == ActRedirect && strings.EqualFold(old.Address, a.Address):
		old.Copy = old.Copy && a.Copy
		return true, nil
	case old.Kind == ActDiscard && a.Kind == ActDiscard:
		return true, nil
	case old.Kind == ActVacation && a.Kind == ActVacation:
		return false, r.errorf(n, "duplicate vacation action not allowed (previously triggered one was here: %s: line %d)", n.prog.Name, old.Line)
	case old.Kind == ActReject && a.Kind == ActReject && old.executed:
		return true, nil // a reject already performed: the new one is dropped, as Pigeonhole
	case old.Kind == ActReject && a.Kind == ActReject:
		return false, r.errorf(n, "duplicate reject/ereject action not allowed (previously triggered one was here: %s: line %d)", n.prog.Name, old.Line)
	}
	return false, nil
}

func isStore(a *Action) bool { return a.Kind == ActKeep || a.Kind == ActStore }

func (r *runner) conflicts(n *node, a *Action) error {
	for _, old := range r.res.Actions {
		rej, other := old, a
		if a.Kind == ActReject {
			rej, other = a, old
		}
		if rej.Kind != ActReject || old.executed {
			continue // an action already performed does not conflict (Pigeonhole's graceful conflicts)
		}
		switch {
		case isStore(other) || other.Kind == ActRedirect && !other.Copy:
			return r.errorf(n, "reject/ereject action conflicts with other action: the %s action (%s: line %d) tries to deliver the message",
				storeName(other), n.prog.Name, other.Line)
		case other.Kind == ActVacation:
			return r.errorf(n, "reject/ereject action conflicts with other action: the vacation action (%s: line %d) also sends a response to the sender",
				n.prog.Name, other.Line)
		}
	}
	return nil
}

func storeName(a *Action) string {
	if isStore(a) {
		return "store"
	}
	return string(a.Kind)
}

func mergeFlags(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, f := range b {
		if !containsFold(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// storeFlags returns the flags a keep or fileinto stores with.
func (r *runner) storeFlags(n *node) []string {
	if a, ok := n.tags["flags"]; ok {
		var out []string
		for _, s := range r.strs(a) {
			out = mergeFlags(out, flagList(s))
		}
		return out
	}
	if r.flagsOn {
		return flagList(r.flags)
	}
	return nil
}

func runKeep(r *runner, n *node) error {
	r.cancel = true
	return r.add(n, &Action{Kind: ActKeep, Mailbox: "INBOX", Flags: r.storeFlags(n)})
}

func runDiscard(r *runner, n *node) error {
	r.cancel = true
	return r.add(n, &Action{Kind: ActDiscard})
}

func checkRedirect(v *validator, n *node) {
	s := n.pos[0].Strings[0]
	if v.prog.required["variables"] && strings.Contains(s, "${") {
		return
	}
	if r := addressReason(s); r != "" {
		v.errorf(n.pos[0].Pos, "specified redirect address '%s' is invalid: %s", s, r)
	} else if _, ok := normalizeAddress(s); !ok {
		v.errorf(n.pos[0].Pos, "specified redirect address '%s' is invalid", s)
	}
}

// normalizeAddress parses a redirect/vacation address into local@domain.
func normalizeAddress(s string) (string, bool) {
	addrs := message.ParseAddressList([]byte(s))
	var got []addr
	for _, a := range addrs {
		if a.Domain == nil {
			continue
		}
		if a.InvalidSyntax || a.Mailbox == nil || *a.Mailbox == "" || *a.Domain == "" || *a.Domain == "MISSING_DOMAIN" {
			return "", false
		}
		got = append(got, addr{local: *a.Mailbox, domain: *a.Domain})
	}
	if len(got) != 1 {
		return "", false
	}
	return quoteLocal(got[0].local) + "@" + got[0].domain, true
}

// quoteLocal writes a local part as a quoted string unless it is a
// dot-atom (RFC 5322 section 3.4.1), as Pigeonhole normalizes addresses.
func quoteLocal(l string) string {
	dotAtom := l != "" && l[0] != '.' && l[len(l)-1] != '.' && !strings.Contains(l, "..")
	for i := 0; dotAtom && i < len(l); i++ {
		c := l[i]
		dotAtom = isAlnum(c) || c >= 0x80 || strings.IndexByte("!#$%&'*+-/=?^_`{|}~.", c) >= 0
	}
	if dotAtom {
		return l
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(l) + `"`
}

func runRedirect(r *runner, n *node) error {
	if reason := addressReason(r.pstr(n, 0)); reason != "" {
		return r.errorf(n, "specified redirect address '%s' is invalid: %s", r.pstr(n, 0), reason)
	}
	to, ok := normalizeAddress(r.pstr(n, 0))
	if !ok {
		return r.errorf(n, "specified redirect address '%s' is invalid", r.pstr(n, 0))
	}
	copyKeep := n.has("copy")
	if !copyKeep {
		r.cancel = true
	}
	return r.add(n, &Action{Kind: ActRedirect, Address: to, Copy: copyKeep})
}

// flagList splits a flag string into flags, dropping duplicates
// (RFC 5232 section 3).
func flagList(s string) []string {
	var out []string
	for _, f := range strings.Fields(s) {
		if !containsFold(out, f) {
			out = append(out, f)
		}
	}
	return out
}
