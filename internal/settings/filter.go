package settings

import (
	"net/netip"
	"sort"
	"strings"
)

// Filter describes a connection for filter lookup: the protocol being
// served ("imap", "lmtp", "lda", "doveadm"), local and remote addresses,
// and the TLS SNI host name.
type Filter struct {
	Protocol  string
	Local     netip.Addr
	Remote    netip.Addr
	LocalName string
}

// specificity orders filter blocks as Dovecot applies and prints them:
// protocol-only, then remote networks, then local networks (fewer bits
// first), then local_name.
func (f filterSpec) specificity() [4]int {
	bits := func(p netip.Prefix) int {
		if !p.IsValid() {
			return 0
		}
		return p.Bits() + 1
	}
	var ln, proto int
	if f.localName != "" {
		ln = 1
	}
	if f.protocol != "" {
		proto = 1
	}
	return [4]int{ln, bits(f.local), bits(f.remote), proto}
}

func sortFilters(fs []*filterBlock) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].spec.specificity(), fs[j].spec.specificity()
		for k := range a {
			if a[k] != b[k] {
				return a[k] < b[k]
			}
		}
		return false
	})
}

func (f filterSpec) matches(c Filter) bool {
	if f.protocol != "" && f.protocol != c.Protocol {
		return false
	}
	if f.local.IsValid() && (!c.Local.IsValid() || !f.local.Contains(c.Local.Unmap())) {
		return false
	}
	if f.remote.IsValid() && (!c.Remote.IsValid() || !f.remote.Contains(c.Remote.Unmap())) {
		return false
	}
	if f.localName != "" && !matchHost(f.localName, strings.ToLower(c.LocalName)) {
		return false
	}
	return true
}

// matchHost matches a local_name pattern, which may start with "*.".
func matchHost(pattern, host string) bool {
	if host == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(host, "."+rest)
	}
	return pattern == host
}

// effective returns the top-level section with the matching filter blocks
// applied in order: later, more specific blocks override settings, plugin
// keys and namespace settings of earlier ones.
func (s *Snapshot) effective(c Filter) *Section {
	out := cloneSection(s.root)
	for _, b := range s.filters {
		if b.spec.matches(c) {
			overlay(out, b.content)
		}
	}
	return out
}

func cloneSection(s *Section) *Section {
	c := newSection(s.Kind, s.Name, s.Pos)
	for k, v := range s.Values {
		c.Values[k] = v
	}
	for _, sub := range s.Sections {
		c.Sections = append(c.Sections, cloneSection(sub))
	}
	return c
}

func overlay(dst, src *Section) {
	for k, v := range src.Values {
		dst.Values[k] = v
	}
	for _, sub := range src.Sections {
		var d *Section
		if sub.Kind != "passdb" && sub.Kind != "userdb" {
			d = dst.find(sub.Kind, sub.Name)
		}
		if d == nil {
			dst.Sections = append(dst.Sections, cloneSection(sub))
			continue
		}
		overlay(d, sub)
	}
}
