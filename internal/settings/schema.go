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
		services: map[string]*config.Node{}, kinds: map[string]kind{}}
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

// implemented lists the global settings roost implements; every other
// setting of defaults.conf is accepted with a "not implemented yet" warning.
func implemented(name string) bool {
	switch name {
	case "protocols", "listen", "base_dir", "instance_name", "login_greeting",
		"login_trusted_networks", "disable_plaintext_auth", "auth_mechanisms",
		"auth_username_format", "auth_failure_delay", "auth_verbose", "auth_verbose_passwords",
		"auth_debug", "auth_debug_passwords", "ssl", "ssl_cert", "ssl_key", "ssl_ca",
		"ssl_min_protocol", "ssl_cipher_list", "ssl_prefer_server_ciphers", "ssl_dh",
		"mail_location", "mail_uid", "mail_gid", "mail_privileged_group", "first_valid_uid",
		"last_valid_uid", "first_valid_gid", "last_valid_gid", "mail_fsync",
		"mail_max_userip_connections", "mail_plugins", "mail_home", "log_path", "info_log_path",
		"debug_log_path", "syslog_facility", "log_timestamp", "mail_debug",
		"imap_max_line_length", "imap_idle_notify_interval", "imap_capability",
		"imap_client_workarounds", "imap_logout_format", "imap_id_send", "imap_id_log",
		"postmaster_address", "hostname", "recipient_delimiter", "verbose_proctitle",
		"shutdown_clients", "default_login_user", "default_internal_user",
		"default_internal_group", "mail_access_groups", "lda_mailbox_autocreate",
		"lda_mailbox_autosubscribe", "lda_original_recipient_header", "quota_full_tempfail",
		"sendmail_path", "submission_host", "rejection_reason", "rejection_subject",
		"deliver_log_format", "state_dir", "default_process_limit", "default_client_limit",
		"default_vsz_limit", "default_idle_kill":
		return true
	}
	return strings.HasPrefix(name, "lmtp_") || strings.HasPrefix(name, "pop3_")
}

// servedProtocol reports whether roost serves protocol p.
func servedProtocol(p string) bool { return p == "imap" || p == "none" }
