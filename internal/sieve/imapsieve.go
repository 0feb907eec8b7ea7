package sieve

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ImapsieveRule is one imapsieve_mailboxN_* group of Pigeonhole's
// imapsieve plugin (RFC 6785 as Pigeonhole configures it): when a message
// is stored into a mailbox matching Name (from a mailbox matching From, for
// COPY) by one of Causes, the Before script runs, then the mailbox's own
// IMAPSIEVE metadata script, then the After script.
type ImapsieveRule struct {
	// N is the rule number from the setting name.
	N int
	// Name is imapsieve_mailboxN_name: a mailbox pattern, "*" and "?"
	// wildcards; empty matches any mailbox (Pigeonhole: "*").
	Name string
	// From is imapsieve_mailboxN_from: the source mailbox pattern for
	// COPY/MOVE; empty matches any.
	From string
	// Causes is imapsieve_mailboxN_causes, upper-case: APPEND, COPY,
	// FLAG. Empty means APPEND and COPY.
	Causes []string
	// Before and After are imapsieve_mailboxN_before and _after: script
	// locations ("file:/path/x.sieve").
	Before, After string
}

// parseImapsieve reads imapsieve_mailbox<N>_* settings; numbering starts
// at 1 and stops at the first N without a _name or _from, as Pigeonhole
// does.
func parseImapsieve(kv map[string]string) ([]ImapsieveRule, error) {
	var nums []int
	seen := map[int]bool{}
	for k := range kv {
		rest, ok := strings.CutPrefix(k, "imapsieve_mailbox")
		if !ok {
			continue
		}
		digits, _, _ := strings.Cut(rest, "_")
		n, err := strconv.Atoi(digits)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("setting %s: invalid rule number", k)
		}
		if !seen[n] {
			seen[n] = true
			nums = append(nums, n)
		}
	}
	sort.Ints(nums)
	var rules []ImapsieveRule
	for i, n := range nums {
		if n != i+1 {
			break
		}
		p := "imapsieve_mailbox" + strconv.Itoa(n) + "_"
		r := ImapsieveRule{N: n, Name: kv[p+"name"], From: kv[p+"from"], Before: kv[p+"before"], After: kv[p+"after"]}
		if r.Name == "" && r.From == "" {
			break
		}
		for _, c := range strings.FieldsFunc(kv[p+"causes"], func(c rune) bool { return c == ' ' || c == ',' }) {
			c = strings.ToUpper(c)
			if c != "APPEND" && c != "COPY" && c != "FLAG" {
				return rules, fmt.Errorf("setting %scauses: unknown cause %q", p, c)
			}
			r.Causes = append(r.Causes, c)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// ImapsieveMatch returns the rules that apply when a message lands in
// mailbox (coming from mailbox from, "" for APPEND) because of cause
// ("APPEND", "COPY" or "FLAG"), in rule order. Mailbox names compare
// case-sensitively except INBOX.
func (c *Config) ImapsieveMatch(mailbox, from, cause string) []ImapsieveRule {
	var out []ImapsieveRule
	cause = strings.ToUpper(cause)
	for _, r := range c.Imapsieve {
		causes := r.Causes
		if len(causes) == 0 {
			causes = []string{"APPEND", "COPY"}
		}
		if !containsFold(causes, cause) {
			continue
		}
		if r.Name != "" && !mailboxPattern(r.Name, mailbox) {
			continue
		}
		if r.From != "" && (from == "" || !mailboxPattern(r.From, from)) {
			continue
		}
		out = append(out, r)
	}
	return out
}

func mailboxPattern(pattern, name string) bool {
	if pattern == "*" {
		return true
	}
	if strings.EqualFold(pattern, "INBOX") && strings.EqualFold(name, "INBOX") {
		return true
	}
	_, ok := glob(name, pattern, false)
	return ok
}
