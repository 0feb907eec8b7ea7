package sieve

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// extlists (RFC 6134) as Pigeonhole implements it: the :list match type
// and the valid_ext_list test, over lists the administrator configures
// (never enabled by default). Lists are named by sieve_extlists_list
// (space separated, e.g. ":addrbook:default"); a list's members are the
// keys "priv/sieve/extlists/<value>" of a Dovecot file dict at
// sieve_extlists_list/<name>/dict/file/path (a file of alternating key
// and value lines); a list without a dict is empty. redirect :list is not
// supported, as in Pigeonhole.

// addrbookURN is the prefix the ":addrbook:" shorthand stands for
// (RFC 6134 section 2.2).
const addrbookURN = "urn:ietf:params:sieve:addrbook:"

// listKeyPrefix is where a list's members are in its dict.
const listKeyPrefix = "priv/sieve/extlists/"

func extlistsSpecs() []*spec {
	return []*spec{
		{name: "valid_ext_list", ext: "extlists", test: true, pos: []posDef{{aStringList, "ext-list-names"}},
			check: checkListNames, eval: evalValidExtList},
	}
}

// normalizeListName returns the canonical name of an external list (the
// ":addrbook:" shorthand expanded) and whether it is a URI Pigeonhole
// accepts: a scheme, no query and no fragment.
func normalizeListName(s string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, ":addrbook:"); ok {
		s = addrbookURN + rest
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || rest == "" || strings.ContainsAny(s, "?# \t\r\n") {
		return "", false
	}
	for i := 0; i < len(scheme); i++ {
		c := scheme[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", false
		}
	}
	return strings.ToLower(scheme) + ":" + rest, true
}

// checkListNames rejects literal list names that are not valid list URIs.
func checkListNames(v *validator, n *node) {
	a := n.pos[len(n.pos)-1]
	for _, s := range a.Strings {
		if hasVariables(v, s) {
			continue
		}
		if _, ok := normalizeListName(s); !ok {
			v.errorf(a.Pos, "%s %s: invalid external list name `%s'", n.spec.name, n.spec.kind(), s)
		}
	}
}

// extList is one configured list; members nil means empty.
type extList struct {
	members map[string]bool
}

// list returns the configured list of that (normalized) name, loading its
// dict once per run.
func (r *runner) list(name string) (*extList, error) {
	if l, ok := r.lists[name]; ok {
		return l, nil
	}
	conf, ok := r.listConfig(name)
	if !ok {
		return nil, nil
	}
	l := &extList{}
	if path, ok := r.config("sieve_extlists_list/" + conf + "/dict/file/path"); ok && path != "" {
		m, err := readFileDict(path)
		if err != nil {
			return nil, err
		}
		l.members = m
	}
	if r.lists == nil {
		r.lists = map[string]*extList{}
	}
	r.lists[name] = l
	return l, nil
}

// listConfig finds the configured list name (as written in
// sieve_extlists_list) that normalizes to name.
func (r *runner) listConfig(name string) (string, bool) {
	v, _ := r.config("sieve_extlists_list")
	for _, c := range strings.Fields(v) {
		if n, ok := normalizeListName(c); ok && n == name {
			return c, true
		}
	}
	return "", false
}

// readFileDict reads a Dovecot file dict: key and value on alternating
// lines.
func readFileDict(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read external list: %w", err)
	}
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key := sc.Text()
		if !sc.Scan() {
			break
		}
		m[key] = true
	}
	return m, sc.Err()
}

// listMatch is the :list match type: the first value that is a member of
// one of the lists.
func (r *runner) listMatch(values, names []string) (string, bool, error) {
	for _, v := range values {
		for _, name := range names {
			norm, ok := normalizeListName(name)
			if !ok {
				continue
			}
			l, err := r.list(norm)
			if err != nil {
				return "", false, err
			}
			if l != nil && (l.members[listKeyPrefix+v] || l.members[listKeyPrefix+strings.ToLower(v)]) {
				return v, true, nil
			}
		}
	}
	return "", false, nil
}

func evalValidExtList(r *runner, n *node) (bool, error) {
	for _, name := range r.strs(n.pos[0]) {
		norm, ok := normalizeListName(name)
		if !ok {
			return false, nil
		}
		if _, ok := r.listConfig(norm); !ok {
			return false, nil
		}
	}
	return true, nil
}
