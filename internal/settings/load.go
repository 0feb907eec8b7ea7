package settings

import (
	"fmt"
	"net/netip"
	"strings"

	"roost/internal/config"
)

// Value is one setting as configured: its canonical value (as doveconf
// prints it), the path of a "<file" value, and where it was set.
type Value struct {
	Value string
	// File is the path of a "key = <file" value; Value then holds the
	// file's contents.
	File string
	Pos  config.Pos
}

// Section is a validated configuration section.
type Section struct {
	Kind, Name string
	Pos        config.Pos
	Values     map[string]Value
	Sections   []*Section
}

func newSection(kind, name string, pos config.Pos) *Section {
	return &Section{Kind: kind, Name: name, Pos: pos, Values: map[string]Value{}}
}

// find returns the subsection kind/name, or nil.
func (s *Section) find(kind, name string) *Section {
	for _, c := range s.Sections {
		if c.Kind == kind && c.Name == name {
			return c
		}
	}
	return nil
}

// Warning is a setting roost accepts but does not implement yet.
type Warning struct {
	Pos  config.Pos
	Name string
	Msg  string
}

func (w Warning) String() string { return fmt.Sprintf("%s: %s: %s", w.Pos, w.Name, w.Msg) }

// filterBlock is the content of one protocol/local/remote/local_name block.
type filterBlock struct {
	spec    filterSpec
	content *Section
}

type filterSpec struct {
	protocol  string
	local     netip.Prefix
	remote    netip.Prefix
	localName string
}

// Snapshot is an immutable, validated configuration.
type Snapshot struct {
	schema   *schema
	path     string
	root     *Section
	filters  []*filterBlock // least specific first, as doveconf prints them
	warnings []Warning
}

// Warnings returns the settings accepted but not implemented, in file order.
func (s *Snapshot) Warnings() []Warning { return append([]Warning(nil), s.warnings...) }

// Path returns the main configuration file's name.
func (s *Snapshot) Path() string { return s.path }

// Options control LoadFile.
type Options struct {
	// FS reads the configuration, its includes and <file values; nil is
	// the operating system's.
	FS config.FS
	// SkipValueFiles leaves "key = <file" values unread, as doveconf -n
	// does (ssl_key files are often readable only by root).
	SkipValueFiles bool
	// Getenv resolves $ENV:NAME; nil expands it to "".
	Getenv func(string) string
}

// LoadFile parses and validates the configuration file at path.
func LoadFile(path string, opts Options) (*Snapshot, error) {
	sc, err := loadSchema()
	if err != nil {
		return nil, err
	}
	f, err := config.ParseFileOptions(path, config.Options{FS: opts.FS, Default: sc.globalDefault,
		SkipValueFiles: opts.SkipValueFiles, Getenv: opts.Getenv})
	if err != nil {
		return nil, err
	}
	return build(sc, path, f.Root)
}

// Load validates an already parsed tree. The tree should have been parsed
// with Defaults() as config.Options.Default so $key sees Dovecot's defaults.
func Load(f *config.File) (*Snapshot, error) {
	sc, err := loadSchema()
	if err != nil {
		return nil, err
	}
	return build(sc, f.Root.File, f.Root)
}

// Defaults returns a function giving Dovecot's default of a global
// setting, for config.Options.Default.
func Defaults() (func(string) (string, bool), error) {
	sc, err := loadSchema()
	if err != nil {
		return nil, err
	}
	return sc.globalDefault, nil
}

type loader struct {
	sc       *schema
	warnings []Warning
	filters  []*filterBlock
}

func build(sc *schema, path string, root *config.Node) (*Snapshot, error) {
	l := &loader{sc: sc}
	top := newSection("", "", root.Pos)
	if err := l.scope(top, root, filterSpec{}, true); err != nil {
		return nil, err
	}
	sortFilters(l.filters)
	l.checkValues(top)
	for _, b := range l.filters {
		l.checkValues(b.content)
	}
	return &Snapshot{schema: sc, path: path, root: top, filters: l.filters, warnings: l.warnings}, nil
}

func errAt(pos config.Pos, format string, args ...any) error {
	return &config.Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// scope loads the body of the top level or of a filter block into dst.
func (l *loader) scope(dst *Section, n *config.Node, spec filterSpec, top bool) error {
	for _, c := range n.Children {
		var err error
		switch {
		case !c.Section:
			err = l.global(dst, c)
		case c.Key == "protocol" || c.Key == "local" || c.Key == "remote" || c.Key == "local_name":
			err = l.filter(c, spec)
		case c.Key == "service" && top:
			err = l.generic(dst, c, "service")
		case c.Key == "namespace" || c.Key == "passdb" || c.Key == "userdb":
			err = l.generic(dst, c, c.Key)
		case c.Key == "plugin" || c.Key == "dict":
			err = l.freeform(dst, c)
		default:
			err = errAt(c.Pos, "Unknown section name: %s", c.Key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) global(dst *Section, c *config.Node) error {
	if c.Key == "global_script_path" {
		l.warn(c, "legacy name, use plugin { sieve_global_path } (accepted as alias)")
		p := dst.find("plugin", "")
		if p == nil {
			p = newSection("plugin", "", c.Pos)
			dst.Sections = append(dst.Sections, p)
		}
		p.Values["sieve_global_path"] = Value{Value: c.Value, Pos: c.Pos}
		return nil
	}
	if msg := obsolete(c.Key); msg != "" {
		l.warn(c, "obsolete setting: "+msg)
		return nil
	}
	if _, ok := l.sc.globalDefault(c.Key); !ok {
		return errAt(c.Pos, "Unknown setting: %s", c.Key)
	}
	if err := l.set(dst, c); err != nil {
		return err
	}
	l.checkImplemented(c)
	return nil
}

func (l *loader) checkImplemented(c *config.Node) {
	if s := globalStatus(l.sc.support.global, c.Key); s.Status.Warns() {
		l.warn(c, s.warning(""))
	}
}

// checkValues warns about the final protocols and mail_plugins values of a
// scope naming things roost does not implement, at their last assignment.
func (l *loader) checkValues(s *Section) {
	l.checkWords(s, "protocols", "protocol", l.sc.support.protocol)
	l.checkWords(s, "mail_plugins", "mail plugin", l.sc.support.mailPlugin)
}

func (l *loader) checkWords(s *Section, key, what string, table map[string]Support) {
	v, ok := s.Values[key]
	if !ok {
		return
	}
	for _, w := range strings.Fields(v.Value) {
		if st := lookupSupport(table, w); st.Status.Warns() {
			l.warnings = append(l.warnings, Warning{Pos: v.Pos, Name: key, Msg: st.warning(what + " " + w)})
		}
	}
}

func (l *loader) warn(c *config.Node, msg string) {
	l.warnings = append(l.warnings, Warning{Pos: c.Pos, Name: c.Key, Msg: msg})
}

// set validates c's value by its kind and stores it in dst.
func (l *loader) set(dst *Section, c *config.Node) error {
	v := c.Value
	if c.ValueFile == "" {
		k := l.sc.kinds[c.Key]
		cv, err := canonical(k, c.Key, v)
		if err != nil {
			return errAt(c.Pos, "Invalid setting %s: %v", c.Key, err)
		}
		v = cv
	}
	if c.Key == "login_trusted_networks" || c.Key == "haproxy_trusted_networks" {
		for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }) {
			if _, err := parseNet(n); err != nil {
				return errAt(c.Pos, "Invalid setting %s: %v", c.Key, err)
			}
		}
	}
	dst.Values[c.Key] = Value{Value: v, File: c.ValueFile, Pos: c.Pos}
	return nil
}

func (l *loader) freeform(dst *Section, c *config.Node) error {
	s := dst.find(c.Key, "")
	if s == nil {
		s = newSection(c.Key, "", c.Pos)
		dst.Sections = append(dst.Sections, s)
	}
	for _, k := range c.Children {
		if k.Section {
			return errAt(k.Pos, "Unknown section name: %s", k.Key)
		}
		s.Values[k.Key] = Value{Value: k.Value, File: k.ValueFile, Pos: k.Pos}
		if c.Key != "plugin" {
			continue
		}
		// Plugin settings are free-form, as in Dovecot: only the ones
		// the status table knows warn.
		if st, ok := l.sc.support.plugin[pluginKey(k.Key)]; ok && st.Status.Warns() {
			l.warn(k, st.warning(""))
		}
	}
	return nil
}

// subsections lists the section types allowed inside each repeatable section.
func subsections(kind string) []string {
	switch kind {
	case "service":
		return []string{"inet_listener", "unix_listener", "fifo_listener"}
	case "namespace":
		return []string{"mailbox"}
	}
	return nil
}

// generic loads a section whose settings are those of its template in
// sections.conf, merging with an earlier section of the same kind and name
// (except passdb and userdb, which are a list).
func (l *loader) generic(dst *Section, c *config.Node, kind string) error {
	tmpl := l.sc.sections[kind]
	whole, wholeKnown := l.sc.support.section[kind]
	if wholeKnown && whole.Status.Warns() {
		l.warn(c, whole.warning(""))
	}
	var s *Section
	if kind != "passdb" && kind != "userdb" {
		s = dst.find(kind, c.Name)
	}
	if s == nil {
		s = newSection(kind, c.Name, c.Pos)
		dst.Sections = append(dst.Sections, s)
	}
	for _, k := range c.Children {
		if k.Section {
			if !contains(subsections(kind), k.Key) {
				return errAt(k.Pos, "Unknown section name: %s", k.Key)
			}
			if err := l.generic(s, k, k.Key); err != nil {
				return err
			}
			continue
		}
		if _, ok := tmpl.Get(k.Key); !ok && !(k.Key == "path" && strings.HasSuffix(kind, "_listener") && kind != "inet_listener") {
			return errAt(k.Pos, "Unknown setting: %s", k.Key)
		}
		if err := l.set(s, k); err != nil {
			return err
		}
		if err := checkSectionValue(kind, k); err != nil {
			return err
		}
		if !wholeKnown {
			l.checkSectionSupport(kind, k)
		}
	}
	return nil
}

// checkSectionSupport warns about a section setting, or a passdb/userdb
// driver, that roost does not implement.
func (l *loader) checkSectionSupport(kind string, k *config.Node) {
	if (kind == "passdb" || kind == "userdb") && k.Key == "driver" {
		if st := lookupSupport(l.sc.support.driver, kind+"/"+k.Value); st.Status.Warns() {
			l.warn(k, st.warning(kind+" driver "+k.Value))
		}
		return
	}
	if st := lookupSupport(l.sc.support.section, kind+"/"+k.Key); st.Status.Warns() {
		l.warn(k, st.warning(""))
	}
}

func checkSectionValue(kind string, k *config.Node) error {
	allowed := map[string][]string{
		"namespace/type": {"private", "shared", "public"},
		"namespace/list": {"yes", "no", "children"},
		"mailbox/auto":   {"no", "create", "subscribe"},
		"passdb/skip":    {"never", "authenticated", "unauthenticated"},
		"userdb/skip":    {"never", "found", "notfound"},
	}[kind+"/"+k.Key]
	if strings.HasPrefix(k.Key, "result_") {
		allowed = []string{"return-ok", "return", "return-fail", "continue", "continue-ok", "continue-fail"}
	}
	if allowed != nil && !contains(allowed, k.Value) {
		return errAt(k.Pos, "Invalid setting %s: unknown value %q (allowed: %s)", k.Key, k.Value, strings.Join(allowed, ", "))
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// filter loads a filter block, combined with the enclosing filter spec.
func (l *loader) filter(c *config.Node, outer filterSpec) error {
	spec := outer
	switch c.Key {
	case "protocol":
		spec.protocol = c.Name
	case "local_name":
		spec.localName = strings.ToLower(c.Name)
	default:
		p, err := parseNet(c.Name)
		if err != nil {
			return errAt(c.Pos, "%s: %v", c.Key, err)
		}
		if c.Key == "local" {
			spec.local = p
		} else {
			spec.remote = p
		}
	}
	b := l.block(spec, c.Pos)
	return l.scope(b.content, c, spec, false)
}

// block returns the filter block for spec, creating it in first-seen order.
func (l *loader) block(spec filterSpec, pos config.Pos) *filterBlock {
	for _, b := range l.filters {
		if b.spec == spec {
			return b
		}
	}
	b := &filterBlock{spec: spec, content: newSection("filter", "", pos)}
	l.filters = append(l.filters, b)
	return b
}

// parseNet parses "10.0.0.0/8", "1.2.3.4" or "::1".
func parseNet(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid network %q", s)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid address %q (host names are not supported yet)", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// obsolete returns Dovecot 2.3's note for a setting it still accepts but
// ignores, or "".
func obsolete(key string) string {
	switch key {
	case "ssl_dh_parameters_length", "ssl_parameters_regenerate":
		return key + " is no longer needed"
	case "ssl_protocols":
		return "ssl_protocols has been replaced by ssl_min_protocol"
	case "login_dir", "dbox_rotate_min_size", "dbox_rotate_days", "director_doveadm_port",
		"mail_log_max_lines_per_sec", "maildir_copy_preserve_filename":
		return key + " is no longer used"
	}
	return ""
}
