package settings

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"

	"roost/internal/config"
)

// defaultsConf is `doveconf -a` of Debian's Dovecot 2.3.19.1 with an empty
// configuration: every global setting and every built-in service with its
// default. sectionsConf holds the defaults of repeatable sections.
//
//go:embed defaults.conf
var defaultsConf string

//go:embed sections.conf
var sectionsConf string

// kind is the value type of a setting.
type kind int

const (
	kindString kind = iota
	kindBool
	kindUint
	kindSize
	kindTime
	kindEnum
	kindMode
)

// schema is the table of known settings and their defaults.
type schema struct {
	global   *config.Node            // defaults.conf root
	sections map[string]*config.Node // "namespace", "mailbox", "service", "inet_listener", ...
	services map[string]*config.Node // built-in services by name
	kinds    map[string]kind         // setting name -> kind (section-local names too)
	support  supportTables
}

// supportTables are the status tables of status.go, built once per schema.
type supportTables struct {
	global, section, plugin, mailPlugin, protocol, driver map[string]Support
}

func newSupportTables() supportTables {
	return supportTables{global: globalSupport(), section: sectionSupport(), plugin: pluginSupport(),
		mailPlugin: mailPluginSupport(), protocol: protocolSupport(), driver: driverSupport()}
}

var (
	reTime = regexp.MustCompile(`^\d+ (secs|mins|hours|days|weeks)$`)
	reSize = regexp.MustCompile(`^\d+ [BkMGT]$`)
	reUint = regexp.MustCompile(`^\d+$`)
)

// enums lists the settings with a closed set of values.
func enumValues(name string) []string {
	switch name {
	case "ssl":
		return []string{"no", "yes", "required"}
	case "mail_fsync":
		return []string{"optimized", "always", "never"}
	case "lock_method":
		return []string{"fcntl", "flock", "dotlock"}
	case "imap_fetch_failure":
		return []string{"disconnect-immediately", "disconnect-after", "no-after"}
	case "pop3_delete_type":
		return []string{"default", "flag", "expunge"}
	case "pop3_uidl_duplicates":
		return []string{"allow", "rename"}
	case "lmtp_hdr_delivery_address":
		return []string{"final", "none", "original"}
	case "mbox_md5":
		return []string{"apop3d", "all"}
	case "type":
		return nil // namespace type is checked per section
	}
	return nil
}

// kindOverride fixes kinds that cannot be inferred from a zero default.
func kindOverride(name string) (kind, bool) {
	switch name {
	case "auth_cache_size", "imapc_max_line_length", "mbox_min_index_size", "submission_max_mail_size":
		return kindSize, true
	case "idle_kill", "imap_hibernate_timeout", "login_proxy_max_disconnect_delay",
		"mail_max_lock_timeout", "mdbox_rotate_interval", "autoexpunge":
		return kindTime, true
	case "auth_verbose_passwords", "auth_verbose", "list", "auto", "type", "skip",
		"result_success", "result_failure", "result_internalfail", "ssl_min_protocol":
		return kindString, true // checked by the section or component builder
	case "mode":
		return kindMode, true
	}
	if enumValues(name) != nil {
		return kindEnum, true
	}
	return 0, false
}

func inferKind(name, def string) kind {
	if k, ok := kindOverride(name); ok {
		return k
	}
	switch {
	case def == "yes" || def == "no":
		return kindBool
	case reTime.MatchString(def):
		return kindTime
	case reSize.MatchString(def):
		return kindSize
	case reUint.MatchString(def):
		return kindUint
	}
	return kindString
}

// loadSchema parses the embedded defaults.
func loadSchema() (*schema, error) {
	opts := config.Options{NoExpand: true, SkipValueFiles: true}
	g, err := config.Parse("defaults.conf", strings.NewReader(defaultsConf), opts)
	if err != nil {
		return nil, fmt.Errorf("embedded defaults: %w", err)
	}
	s, err := config.Parse("sections.conf", strings.NewReader(sectionsConf), opts)
	if err != nil {
		return nil, fmt.Errorf("embedded section defaults: %w", err)
	}
	sc := &schema{global: g.Root, sections: map[string]*config.Node{},
		services: map[string]*config.Node{}, kinds: map[string]kind{}, support: newSupportTables()}
	for _, n := range s.Root.Children {
		sc.sections[n.Key] = n
	}
	sc.addKinds(g.Root)
	sc.addKinds(s.Root)
	for _, svc := range g.Root.Sections("service") {
		sc.services[svc.Name] = svc
	}
	sc.kinds["path"] = kindString
	return sc, nil
}

func (sc *schema) addKinds(n *config.Node) {
	for _, c := range n.Children {
		if c.Section {
			sc.addKinds(c)
			continue
		}
		if _, ok := sc.kinds[c.Key]; !ok {
			sc.kinds[c.Key] = inferKind(c.Key, c.Value)
		}
	}
}

// globalDefault returns the default of a global setting.
func (sc *schema) globalDefault(name string) (string, bool) {
	n, ok := sc.global.Get(name)
	if !ok {
		return "", false
	}
	return n.Value, true
}
