package settings

import (
	"net/netip"
	"sort"
	"strings"
	"time"
)

// Settings is the effective configuration for one connection (see
// Snapshot.For). Each component receives only its own struct.
type Settings struct {
	// Protocols lists the protocols to serve (protocols).
	Protocols []string
	// Listen lists the addresses to listen on (listen), "*" and "::" for all.
	Listen []string
	// BaseDir is the runtime directory (base_dir).
	BaseDir string
	// InstanceName names this instance in logs and process titles (instance_name).
	InstanceName string
	// PostmasterAddress is the From of rejections (postmaster_address).
	PostmasterAddress string
	// Hostname is used in LMTP replies and Message-IDs; empty means the system's (hostname).
	Hostname string
	// RecipientDelimiter separates user and detail in addresses (recipient_delimiter).
	RecipientDelimiter string
	// VerboseProctitle shows user and IP in process titles (verbose_proctitle).
	VerboseProctitle bool
	// ShutdownClients closes sessions when the server stops (shutdown_clients).
	ShutdownClients bool
	// DefaultLoginUser runs pre-login code (default_login_user).
	DefaultLoginUser string
	// DefaultInternalUser runs internal services (default_internal_user).
	DefaultInternalUser string

	Login Login
	Auth  Auth
	SSL   SSL
	Mail  Mail
	IMAP  IMAP
	POP3  map[string]string
	LMTP  map[string]string
	// ManageSieve holds the managesieve_* settings by name.
	ManageSieve map[string]string
	LDA         LDA
	Log         Log
	Namespaces  []Namespace
	Passdbs     []Authdb
	Userdbs     []Authdb
	Services    []Service
	// Plugin holds plugin { } settings, free-form.
	Plugin map[string]string
}

// Login holds pre-login settings.
type Login struct {
	// Greeting is the banner text (login_greeting).
	Greeting string
	// TrustedNetworks may send plaintext auth and forward client IPs (login_trusted_networks).
	TrustedNetworks []netip.Prefix
}

// Auth holds authentication settings.
type Auth struct {
	// DisablePlaintext refuses plaintext auth without TLS (disable_plaintext_auth).
	DisablePlaintext bool
	// Mechanisms are the SASL mechanisms offered (auth_mechanisms).
	Mechanisms []string
	// UsernameFormat is the %-template applied to login names (auth_username_format).
	UsernameFormat string
	// FailureDelay is the delay before a failure reply (auth_failure_delay).
	FailureDelay time.Duration
	// Verbose logs failed attempts (auth_verbose).
	Verbose bool
	// VerbosePasswords is no, plain or sha1[:n] (auth_verbose_passwords).
	VerbosePasswords string
	// Debug logs auth debugging (auth_debug).
	Debug bool
	// DebugPasswords logs passwords in debug output (auth_debug_passwords).
	DebugPasswords bool
	// UsernameChars lists the characters allowed in user names (auth_username_chars).
	UsernameChars string
	// UsernameTranslation maps characters pairwise before lookups (auth_username_translation).
	UsernameTranslation string
	// MasterUserSeparator separates login and master user names (auth_master_user_separator).
	MasterUserSeparator string
	// Realms are offered by DIGEST-MD5 (auth_realms).
	Realms []string
	// DefaultRealm is appended to user names without a domain (auth_default_realm).
	DefaultRealm string
	// AnonymousUsername is the user ANONYMOUS logs in as (auth_anonymous_username).
	AnonymousUsername string
	// SSLUsernameFromCert takes the user name from the client certificate (auth_ssl_username_from_cert).
	SSLUsernameFromCert bool
	// SSLRequireClientCert refuses logins without a valid client certificate (auth_ssl_require_client_cert).
	SSLRequireClientCert bool
	// CacheSize is the auth cache's size in bytes, 0 for no cache (auth_cache_size).
	CacheSize uint64
	// CacheTTL is how long found users stay cached (auth_cache_ttl).
	CacheTTL time.Duration
	// CacheNegativeTTL is how long unknown users and mismatches stay cached (auth_cache_negative_ttl).
	CacheNegativeTTL time.Duration
}

// SSL holds TLS settings. Cert, Key, CA and DH hold the PEM contents when
// given as <file; the *File fields hold the paths.
type SSL struct {
	// Mode is "no", "yes" or "required" (ssl).
	Mode                string
	Cert, Key, CA, DH   string
	CertFile, KeyFile   string
	MinProtocol         string // ssl_min_protocol
	CipherList          string // ssl_cipher_list
	PreferServerCiphers bool   // ssl_prefer_server_ciphers
	VerifyClientCert    bool   // ssl_verify_client_cert
	CertUsernameField   string // ssl_cert_username_field
}

// Mail holds mail storage settings.
type Mail struct {
	Location             string   // mail_location
	UID, GID             string   // mail_uid, mail_gid
	PrivilegedGroup      string   // mail_privileged_group
	AccessGroups         string   // mail_access_groups
	FirstValidUID        uint64   // first_valid_uid
	LastValidUID         uint64   // last_valid_uid (0: no limit)
	FirstValidGID        uint64   // first_valid_gid
	Fsync                string   // mail_fsync: optimized, always or never
	DotlockUseExcl       bool     // dotlock_use_excl
	MaxUserIPConnections uint64   // mail_max_userip_connections
	Plugins              []string // mail_plugins
	Home                 string   // mail_home
	Debug                bool     // mail_debug
	AttributeDict        string   // mail_attribute_dict (METADATA)
	ServerComment        string   // mail_server_comment
	ServerAdmin          string   // mail_server_admin
}

// IMAP holds IMAP protocol settings.
type IMAP struct {
	MaxLineLength      uint64        // imap_max_line_length
	IdleNotifyInterval time.Duration // imap_idle_notify_interval
	Capability         string        // imap_capability ("+X" adds)
	ClientWorkarounds  []string      // imap_client_workarounds
	LogoutFormat       string        // imap_logout_format
	IDSend             string        // imap_id_send
	IDLog              string        // imap_id_log
}

// LDA holds delivery settings shared by LMTP and the LDA.
type LDA struct {
	MailboxAutocreate       bool   // lda_mailbox_autocreate
	MailboxAutosubscribe    bool   // lda_mailbox_autosubscribe
	OriginalRecipientHeader string // lda_original_recipient_header
	QuotaFullTempfail       bool   // quota_full_tempfail
	SendmailPath            string // sendmail_path
	SubmissionHost          string // submission_host
}

// Log holds logging settings.
type Log struct {
	Path, InfoPath, DebugPath string // log_path, info_log_path, debug_log_path
	SyslogFacility            string // syslog_facility
	Timestamp                 string // log_timestamp (strftime format)
}

// Namespace is one namespace { } section.
type Namespace struct {
	Name, Type, Separator, Prefix, Location string
	Inbox, Hidden, Subscriptions, Disabled  bool
	// List is yes, no or children.
	List      string
	Mailboxes []Mailbox
}

// Mailbox is one mailbox { } section inside a namespace.
type Mailbox struct {
	Name, SpecialUse, Comment string
	// Auto is no, create or subscribe.
	Auto        string
	Autoexpunge time.Duration
}

// Authdb is one passdb { } or userdb { } section.
type Authdb struct {
	Name, Driver, Args, DefaultFields, OverrideFields                   string
	Skip, ResultSuccess, ResultFailure, ResultInternalfail, AuthVerbose string
	Deny, Pass, Master                                                  bool
	// Mechanisms (passdb only) limits the passdb to these SASL mechanisms,
	// space or comma separated; "none" stands for lookups without
	// authentication. Empty means every mechanism.
	Mechanisms []string
}

// Service is one service { } section merged over its built-in defaults.
type Service struct {
	Name, Executable, User, Group, Chroot, Type, Protocol    string
	ProcessLimit, ClientLimit, ServiceCount, ProcessMinAvail uint64
	VszLimit                                                 uint64
	IdleKill                                                 time.Duration
	InetListeners                                            []InetListener
	UnixListeners, FifoListeners                             []UnixListener
}

// InetListener is an inet_listener { } section.
type InetListener struct {
	Name, Address           string
	Port                    uint64
	SSL, HAProxy, ReusePort bool
}

// UnixListener is a unix_listener or fifo_listener { } section; Path is
// the section name or its path setting.
type UnixListener struct {
	Path, User, Group string
	Mode              uint32
}

// For returns the settings in effect for a connection, with the matching
// protocol/local/remote/local_name blocks applied from least to most
// specific as Dovecot does.
func (s *Snapshot) For(f Filter) *Settings {
	return s.typed(s.effective(f))
}

// Global returns the settings outside any filter block.
func (s *Snapshot) Global() *Settings {
	return s.typed(s.root)
}

// reader reads typed values of one section over its defaults; values were
// validated at load, so parse errors cannot occur here.
type reader struct {
	s   *Section
	def func(string) string
}

func (r reader) str(k string) string {
	if v, ok := r.s.Values[k]; ok {
		return v.Value
	}
	return r.def(k)
}
func (r reader) bool(k string) bool         { b, _ := parseBool(r.str(k)); return b }
func (r reader) uint(k string) uint64       { u, _ := parseUint(r.str(k)); return u }
func (r reader) size(k string) uint64       { u, _ := parseSize(r.str(k)); return u }
func (r reader) dur(k string) time.Duration { d, _ := parseTime(r.str(k)); return d }
func (r reader) words(k string) []string    { return strings.Fields(r.str(k)) }
func (r reader) list(k string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(r.str(k), func(c rune) bool { return c == ',' || c == ' ' || c == '\t' }) {
		out = append(out, f)
	}
	return out
}

func (s *Snapshot) typed(root *Section) *Settings {
	g := reader{s: root, def: func(k string) string { v, _ := s.schema.globalDefault(k); return v }}
	st := &Settings{
		Protocols: g.words("protocols"), Listen: g.list("listen"), BaseDir: g.str("base_dir"),
		InstanceName: g.str("instance_name"), PostmasterAddress: g.str("postmaster_address"),
		Hostname: g.str("hostname"), RecipientDelimiter: g.str("recipient_delimiter"),
		VerboseProctitle: g.bool("verbose_proctitle"), ShutdownClients: g.bool("shutdown_clients"),
		DefaultLoginUser: g.str("default_login_user"), DefaultInternalUser: g.str("default_internal_user"),
		Login: Login{Greeting: g.str("login_greeting"), TrustedNetworks: prefixes(g.list("login_trusted_networks"))},
		Auth: Auth{DisablePlaintext: g.bool("disable_plaintext_auth"), Mechanisms: g.words("auth_mechanisms"),
			UsernameFormat: g.str("auth_username_format"), FailureDelay: g.dur("auth_failure_delay"),
			Verbose: g.bool("auth_verbose"), VerbosePasswords: g.str("auth_verbose_passwords"),
			Debug: g.bool("auth_debug"), DebugPasswords: g.bool("auth_debug_passwords"),
			UsernameChars: g.str("auth_username_chars"), UsernameTranslation: g.str("auth_username_translation"),
			MasterUserSeparator: g.str("auth_master_user_separator"), Realms: g.words("auth_realms"),
			DefaultRealm: g.str("auth_default_realm"), AnonymousUsername: g.str("auth_anonymous_username"),
			SSLUsernameFromCert: g.bool("auth_ssl_username_from_cert"), SSLRequireClientCert: g.bool("auth_ssl_require_client_cert"),
			CacheSize: g.size("auth_cache_size"), CacheTTL: g.dur("auth_cache_ttl"), CacheNegativeTTL: g.dur("auth_cache_negative_ttl")},
		SSL: SSL{Mode: g.str("ssl"), Cert: g.str("ssl_cert"), Key: g.str("ssl_key"), CA: g.str("ssl_ca"),
			DH: g.str("ssl_dh"), CertFile: root.Values["ssl_cert"].File, KeyFile: root.Values["ssl_key"].File,
			MinProtocol: g.str("ssl_min_protocol"), CipherList: g.str("ssl_cipher_list"),
			PreferServerCiphers: g.bool("ssl_prefer_server_ciphers"), VerifyClientCert: g.bool("ssl_verify_client_cert"),
			CertUsernameField: g.str("ssl_cert_username_field")},
		Mail: Mail{Location: g.str("mail_location"), UID: g.str("mail_uid"), GID: g.str("mail_gid"),
			PrivilegedGroup: g.str("mail_privileged_group"), AccessGroups: g.str("mail_access_groups"),
			FirstValidUID: g.uint("first_valid_uid"), LastValidUID: g.uint("last_valid_uid"),
			FirstValidGID: g.uint("first_valid_gid"), Fsync: g.str("mail_fsync"),
			DotlockUseExcl:       g.bool("dotlock_use_excl"),
			MaxUserIPConnections: g.uint("mail_max_userip_connections"), Plugins: g.words("mail_plugins"),
			Home: g.str("mail_home"), Debug: g.bool("mail_debug"), AttributeDict: g.str("mail_attribute_dict"),
			ServerComment: g.str("mail_server_comment"), ServerAdmin: g.str("mail_server_admin")},
		IMAP: IMAP{MaxLineLength: g.size("imap_max_line_length"), IdleNotifyInterval: g.dur("imap_idle_notify_interval"),
			Capability: g.str("imap_capability"), ClientWorkarounds: g.words("imap_client_workarounds"),
			LogoutFormat: g.str("imap_logout_format"), IDSend: g.str("imap_id_send"), IDLog: g.str("imap_id_log")},
		LDA: LDA{MailboxAutocreate: g.bool("lda_mailbox_autocreate"), MailboxAutosubscribe: g.bool("lda_mailbox_autosubscribe"),
			OriginalRecipientHeader: g.str("lda_original_recipient_header"), QuotaFullTempfail: g.bool("quota_full_tempfail"),
			SendmailPath: g.str("sendmail_path"), SubmissionHost: g.str("submission_host")},
		Log: Log{Path: g.str("log_path"), InfoPath: g.str("info_log_path"), DebugPath: g.str("debug_log_path"),
			SyslogFacility: g.str("syslog_facility"), Timestamp: g.str("log_timestamp")},
		POP3: s.prefixed(g, "pop3_"), LMTP: s.prefixed(g, "lmtp_"), Plugin: map[string]string{},
		ManageSieve: s.prefixed(g, "managesieve_"),
	}
	for _, sec := range root.Sections {
		s.typedSection(st, sec)
	}
	s.builtinServices(st, root)
	return st
}

// prefixed returns every global setting starting with prefix, effective value.
func (s *Snapshot) prefixed(g reader, prefix string) map[string]string {
	out := map[string]string{}
	for _, d := range s.schema.global.Children {
		if !d.Section && strings.HasPrefix(d.Key, prefix) {
			out[d.Key] = g.str(d.Key)
		}
	}
	return out
}

func (s *Snapshot) sectionReader(sec *Section, def func(string) string) reader {
	return reader{s: sec, def: def}
}

func (s *Snapshot) templateDefault(kind string) func(string) string {
	t := s.schema.sections[kind]
	return func(k string) string { return t.ValueOf(k) }
}

func (s *Snapshot) typedSection(st *Settings, sec *Section) {
	switch sec.Kind {
	case "plugin":
		for k, v := range sec.Values {
			st.Plugin[k] = v.Value
		}
	case "namespace":
		st.Namespaces = append(st.Namespaces, s.namespace(sec))
	case "passdb", "userdb":
		r := s.sectionReader(sec, s.templateDefault(sec.Kind))
		a := Authdb{Name: r.str("name"), Driver: r.str("driver"), Args: r.str("args"),
			DefaultFields: r.str("default_fields"), OverrideFields: r.str("override_fields"),
			Skip: r.str("skip"), ResultSuccess: r.str("result_success"), ResultFailure: r.str("result_failure"),
			ResultInternalfail: r.str("result_internalfail"), AuthVerbose: r.str("auth_verbose"),
			Deny: r.bool("deny"), Pass: r.bool("pass"), Master: r.bool("master")}
		if sec.Kind == "passdb" {
			a.Mechanisms = r.list("mechanisms")
			st.Passdbs = append(st.Passdbs, a)
		} else {
			st.Userdbs = append(st.Userdbs, a)
		}
	}
}

func (s *Snapshot) namespace(sec *Section) Namespace {
	r := s.sectionReader(sec, s.templateDefault("namespace"))
	ns := Namespace{Name: sec.Name, Type: r.str("type"), Separator: r.str("separator"), Prefix: r.str("prefix"),
		Location: r.str("location"), Inbox: r.bool("inbox"), Hidden: r.bool("hidden"),
		Subscriptions: r.bool("subscriptions"), Disabled: r.bool("disabled"), List: r.str("list")}
	for _, m := range sec.Sections {
		mr := s.sectionReader(m, s.templateDefault("mailbox"))
		ns.Mailboxes = append(ns.Mailboxes, Mailbox{Name: m.Name, SpecialUse: mr.str("special_use"),
			Comment: mr.str("comment"), Auto: mr.str("auto"), Autoexpunge: mr.dur("autoexpunge")})
	}
	return ns
}

// builtinServices returns every service: Dovecot's built-in ones and the
// configured ones, sorted by name, configured values over defaults.
func (s *Snapshot) builtinServices(st *Settings, root *Section) {
	names := map[string]bool{}
	for n := range s.schema.services {
		names[n] = true
	}
	for _, sec := range root.Sections {
		if sec.Kind == "service" {
			names[sec.Name] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		st.Services = append(st.Services, s.service(n, root.find("service", n)))
	}
}

func (s *Snapshot) service(name string, sec *Section) Service {
	def, builtin := s.schema.services[name]
	if sec == nil {
		sec = newSection("service", name, def.Pos)
	}
	defFn := s.templateDefault("service")
	if builtin {
		defFn = func(k string) string { return def.ValueOf(k) }
	}
	r := s.sectionReader(sec, defFn)
	svc := Service{Name: name, Executable: r.str("executable"), User: r.str("user"), Group: r.str("group"),
		Chroot: r.str("chroot"), Type: r.str("type"), Protocol: r.str("protocol"),
		ProcessLimit: r.uint("process_limit"), ClientLimit: r.uint("client_limit"),
		ServiceCount: r.uint("service_count"), ProcessMinAvail: r.uint("process_min_avail"),
		VszLimit: r.size("vsz_limit"), IdleKill: r.dur("idle_kill")}
	seen := map[string]bool{}
	add := func(l *Section, d func(string) string) {
		lr := s.sectionReader(l, d)
		switch l.Kind {
		case "inet_listener":
			svc.InetListeners = append(svc.InetListeners, InetListener{Name: l.Name, Address: lr.str("address"),
				Port: lr.uint("port"), SSL: lr.bool("ssl"), HAProxy: lr.bool("haproxy"), ReusePort: lr.bool("reuse_port")})
		case "unix_listener", "fifo_listener":
			path := l.Name
			if p, ok := l.Values["path"]; ok {
				path = p.Value
			}
			mode, _ := parseMode(lr.str("mode"))
			u := UnixListener{Path: path, User: lr.str("user"), Group: lr.str("group"), Mode: mode}
			if l.Kind == "unix_listener" {
				svc.UnixListeners = append(svc.UnixListeners, u)
			} else {
				svc.FifoListeners = append(svc.FifoListeners, u)
			}
		}
	}
	if builtin {
		for _, d := range def.Children {
			if d.Section {
				seen[d.Key+" "+d.Name] = true
				l := sec.find(d.Key, d.Name)
				if l == nil {
					l = newSection(d.Key, d.Name, d.Pos)
				}
				dn := d
				add(l, func(k string) string { return dn.ValueOf(k) })
			}
		}
	}
	for _, l := range sec.Sections {
		if !seen[l.Kind+" "+l.Name] {
			add(l, s.templateDefault(l.Kind))
		}
	}
	return svc
}

func prefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := parseNet(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}
