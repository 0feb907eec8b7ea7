package settings

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"

	"roost/internal/config"
)

// Version is printed in the header of WriteNonDefault and WriteAll.
const Version = "roost (Dovecot 2.3 configuration)"

// WriteNonDefault writes the configuration as `doveconf -n` does: only
// settings differing from the defaults, sorted, sections indented, filter
// blocks last. The first line is "# roost ...: path" in place of Dovecot's
// version, OS and host name comments.
func WriteNonDefault(w io.Writer, s *Snapshot) error {
	return s.write(w, false)
}

// WriteAll writes every setting with its effective value, as `doveconf -a`.
func WriteAll(w io.Writer, s *Snapshot) error {
	return s.write(w, true)
}

// WriteSettings writes "name = value" for each named global setting, or
// "plugin/key = value" for plugin settings, as `doveconf name...` does.
func WriteSettings(w io.Writer, s *Snapshot, names ...string) error {
	bw := bufio.NewWriter(w)
	for _, name := range names {
		v, ok := s.lookup(name)
		if !ok {
			return fmt.Errorf("Unknown setting: %s", name) //nolint:staticcheck // doveconf's wording
		}
		fmt.Fprintf(bw, "%s = %s\n", name, v)
	}
	return bw.Flush()
}

func (s *Snapshot) lookup(name string) (string, bool) {
	if key, ok := strings.CutPrefix(name, "plugin/"); ok {
		if p := s.root.find("plugin", ""); p != nil {
			if v, ok := p.Values[key]; ok {
				return formatValue(key, v, false), true
			}
		}
		return "", true
	}
	if v, ok := s.root.Values[name]; ok {
		return formatValue(name, v, false), true
	}
	d, ok := s.schema.globalDefault(name)
	return quoteValue(d), ok
}

func (s *Snapshot) write(w io.Writer, all bool) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s: %s\n", Version, s.path)
	p := &printer{w: bw, all: all, sc: s.schema}
	p.top(s.root)
	for _, b := range s.filters {
		p.filter(b)
	}
	return bw.Flush()
}

type printer struct {
	w   *bufio.Writer
	all bool
	sc  *schema
}

// entry is one line or section to print, sorted by key then name.
type entry struct {
	key, name string
	line      string   // "key = value" for settings
	sec       *Section // configured section, for sections
	def       *config.Node
}

func (p *printer) top(root *Section) {
	var es []entry
	for _, d := range p.sc.global.Children {
		if d.Section {
			continue
		}
		v, set := root.Values[d.Key]
		switch {
		case set && (p.all || v.File != "" || v.Value != d.Value):
			es = append(es, entry{key: d.Key, line: d.Key + " = " + formatValue(d.Key, v, false)})
		case !set && (p.all || alwaysPrinted(d.Key)):
			es = append(es, entry{key: d.Key, line: d.Key + " = " + formatValue(d.Key, Value{Value: d.Value}, false)})
		}
	}
	for _, sec := range root.Sections {
		es = append(es, entry{key: sec.Kind, name: sec.Name, sec: sec, def: p.defaultFor(sec)})
	}
	if p.all {
		for _, d := range p.sc.global.Sections("service") {
			if root.find("service", d.Name) == nil {
				es = append(es, entry{key: "service", name: d.Name, sec: newSection("service", d.Name, d.Pos), def: d})
			}
		}
	}
	p.entries(es, 0)
}

// alwaysPrinted lists settings doveconf -n prints although unset: Pigeonhole
// computes them at startup, so they always differ from the static default.
func alwaysPrinted(key string) bool {
	return key == "managesieve_notify_capability" || key == "managesieve_sieve_capability"
}

// defaultFor returns the defaults node of a section: a built-in service's
// own, else the kind's template.
func (p *printer) defaultFor(sec *Section) *config.Node {
	if sec.Kind == "service" {
		if d, ok := p.sc.services[sec.Name]; ok {
			return d
		}
	}
	return p.sc.sections[sec.Kind]
}

func (p *printer) entries(es []entry, depth int) {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].key != es[j].key {
			return es[i].key < es[j].key
		}
		return es[i].sec != nil && es[j].sec != nil && es[i].sec.Kind != "passdb" &&
			es[i].sec.Kind != "userdb" && es[i].name < es[j].name
	})
	ind := strings.Repeat("  ", depth)
	for _, e := range es {
		if e.sec == nil {
			p.w.WriteString(ind + e.line + "\n")
			continue
		}
		p.section(e.sec, e.def, depth)
	}
}

// section prints a section unless it is a repeatable one with nothing to
// show; namespace, passdb and userdb always print.
func (p *printer) section(sec *Section, def *config.Node, depth int) {
	var es []entry
	if def == nil || sec.Kind == "plugin" || sec.Kind == "dict" || sec.Kind == "filter" {
		for k, v := range sec.Values {
			es = append(es, entry{key: k, line: k + " = " + formatValue(k, v, true)})
		}
	} else {
		es = p.sectionValues(sec, def)
	}
	for _, sub := range sec.Sections {
		es = append(es, entry{key: sub.Kind, name: sub.Name, sec: sub, def: p.subDefault(sub, def)})
	}
	if p.all && def != nil {
		for _, d := range def.Children {
			if d.Section && sec.find(d.Key, d.Name) == nil {
				es = append(es, entry{key: d.Key, name: d.Name, sec: newSection(d.Key, d.Name, d.Pos), def: d})
			}
		}
	}
	keep := len(es) > 0 || sec.Kind == "namespace" || sec.Kind == "passdb" || sec.Kind == "userdb"
	if !keep {
		return
	}
	ind := strings.Repeat("  ", depth)
	head := sec.Kind
	if sec.Name != "" {
		head += " " + sectionName(sec)
	}
	p.w.WriteString(ind + head + " {\n")
	p.entries(es, depth+1)
	p.w.WriteString(ind + "}\n")
}

func (p *printer) sectionValues(sec *Section, def *config.Node) []entry {
	var es []entry
	for _, d := range def.Children {
		if d.Section {
			continue
		}
		v, set := sec.Values[d.Key]
		always := sec.Kind == "namespace" && (d.Key == "location" || d.Key == "prefix")
		switch {
		case set:
			es = append(es, entry{key: d.Key, line: d.Key + " = " + formatValue(d.Key, v, false)})
		case !set && (p.all || always):
			es = append(es, entry{key: d.Key, line: d.Key + " = " + formatValue(d.Key, Value{Value: d.Value}, false)})
		}
	}
	return es
}

func (p *printer) subDefault(sub *Section, parent *config.Node) *config.Node {
	if parent != nil {
		for _, c := range parent.Sections(sub.Kind) {
			if c.Name == sub.Name {
				return c
			}
		}
	}
	return p.sc.sections[sub.Kind]
}

// sectionName is the name printed after the kind: a unix or fifo listener's
// path replaces its name; names with spaces are quoted.
func sectionName(sec *Section) string {
	name := sec.Name
	if v, ok := sec.Values["path"]; ok && strings.HasSuffix(sec.Kind, "_listener") {
		name = v.Value
	}
	if strings.ContainsAny(name, " \t") {
		return `"` + name + `"`
	}
	return name
}

func (p *printer) filter(b *filterBlock) {
	if len(b.content.Values) == 0 && len(b.content.Sections) == 0 {
		return
	}
	var heads []string
	if b.spec.remote.IsValid() {
		heads = append(heads, "remote "+prefixString(b.spec.remote))
	}
	if b.spec.local.IsValid() {
		heads = append(heads, "local "+prefixString(b.spec.local))
	}
	if b.spec.localName != "" {
		heads = append(heads, "local_name "+b.spec.localName)
	}
	if b.spec.protocol != "" {
		heads = append(heads, "protocol "+b.spec.protocol)
	}
	for i, h := range heads {
		p.w.WriteString(strings.Repeat("  ", i) + h + " {\n")
	}
	var es []entry
	for k, v := range b.content.Values {
		es = append(es, entry{key: k, line: k + " = " + formatValue(k, v, false)})
	}
	for _, sub := range b.content.Sections {
		es = append(es, entry{key: sub.Kind, name: sub.Name, sec: sub, def: p.sc.sections[sub.Kind]})
	}
	p.entries(es, len(heads))
	for i := len(heads) - 1; i >= 0; i-- {
		p.w.WriteString(strings.Repeat("  ", i) + "}\n")
	}
}

func prefixString(p interface {
	Bits() int
	String() string
}) string {
	s := p.String()
	if i := strings.IndexByte(s, '/'); i >= 0 && s[i+1:] == "32" || strings.HasSuffix(s, "/128") {
		return s[:strings.IndexByte(s, '/')]
	}
	return s
}

// hidden reports whether doveconf hides a setting's value without -P.
func hidden(key string) bool {
	return key == "ssl_key" || key == "ssl_alt_key" || key == "ssl_client_key" ||
		strings.Contains(key, "password")
}

// formatValue formats a value as doveconf prints it.
func formatValue(key string, v Value, freeform bool) string {
	if v.Value != "" && !freeform && hidden(key) || v.File != "" && hidden(key) {
		return "# hidden, use -P to show it"
	}
	if v.File != "" {
		return "<" + v.File
	}
	return quoteValue(v.Value)
}

func quoteValue(s string) string {
	if s != strings.TrimSpace(s) {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return s
}
