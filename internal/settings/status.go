package settings

import (
	"strings"
	"unicode"
)

// Status is how far roost implements a Dovecot setting, driver, storage
// format, protocol or command. The tables in this file are the one source
// for both the load warnings and docs/compat.md (TestCompatDoc).
type Status int

// Statuses, in the order docs/compat.md counts them.
const (
	// Done behaves as in Dovecot 2.3.
	Done Status = iota
	// Partial works, with the limits its note names. No warning.
	Partial
	// NotYet is accepted and ignored, with a warning; it is planned.
	NotYet
	// Never is accepted and ignored, with a warning; the note says why
	// roost will not implement it.
	Never
)

func (s Status) String() string {
	switch s {
	case Done:
		return "done"
	case Partial:
		return "partial"
	case NotYet:
		return "not yet"
	case Never:
		return "never"
	}
	return "unknown"
}

// Warns reports whether configuring an item of this status warns at load.
func (s Status) Warns() bool { return s == NotYet || s == Never }

// Support is the status of one item with a short note for admins.
type Support struct {
	Status Status
	Note   string
}

// warning is the text of the load warning for an item of status s. The
// subject ("protocol pop3") may be empty when the warning names it.
func (s Support) warning(subject string) string {
	msg := "not implemented by roost yet"
	if s.Status == Never {
		msg = "not implemented by roost"
	}
	if subject != "" {
		msg = subject + " is " + msg
	}
	if s.Note != "" {
		msg += " (" + s.Note + ")"
	}
	return msg
}

// Notes shared by many rows.
const (
	noteOneProcess = "one process serves every connection (DESIGN.md section 2)"
	noteNoDelivery = "no LMTP or LDA delivery yet"
	noteNoSubmit   = "the submission service is not served yet"
	noteOwnIndex   = "roost keeps its own index and never reads dovecot.index*"
	noteOpenSSL    = "OpenSSL-specific; roost uses Go's crypto/tls"
	noteDirector   = "Dovecot 2.4 removed the director; proxying by passdb fields is the planned path"
	noteOldStats   = "the pre-2.3 statistics, superseded by stats in Dovecot 2.3"
	noteNoModules  = "roost has no loadable modules; features are built in"
	noteReplicator = "dsync replication is later work"
	noteNoImapc    = "imapc and pop3c storage are later work"
	noteNoMbox     = "mbox storage is later work"
	noteNoDbox     = "sdbox/mdbox storage is later work"
)

// lookupSupport returns the status of key in table; a key that is not
// listed is NotYet with no note.
func lookupSupport(table map[string]Support, key string) Support {
	if s, ok := table[key]; ok {
		return s
	}
	return Support{Status: NotYet}
}

// globalSupport is the status of every global setting roost does something
// with, plus notes for the others worth explaining. Every other setting of
// defaults.conf is NotYet.
func globalSupport() map[string]Support {
	d, p, n, x := Done, Partial, NotYet, Never
	return map[string]Support{
		// Core and process model.
		"protocols":               {p, "imap, pop3, lmtp and sieve (ManageSieve) are served; submission warns"},
		"listen":                  {d, ""},
		"base_dir":                {p, "holds master.pid; no runtime sockets yet"},
		"instance_name":           {n, ""},
		"shutdown_clients":        {p, "clients are always disconnected with * BYE on stop; `no` cannot be honoured by one process"},
		"verbose_proctitle":       {x, noteOneProcess + "; no per-session process titles"},
		"default_login_user":      {x, noteOneProcess + "; pre-login code runs in the same process"},
		"default_internal_user":   {x, noteOneProcess},
		"default_internal_group":  {x, noteOneProcess},
		"default_process_limit":   {x, noteOneProcess},
		"default_client_limit":    {n, "no connection limit yet"},
		"default_vsz_limit":       {x, noteOneProcess},
		"default_idle_kill":       {x, noteOneProcess},
		"config_cache_size":       {x, "no config process"},
		"libexec_dir":             {x, noteNoModules},
		"mail_plugin_dir":         {x, noteNoModules},
		"login_plugin_dir":        {x, noteNoModules},
		"login_plugins":           {x, noteNoModules},
		"version_ignore":          {x, "one binary: its parts always have the same version"},
		"import_environment":      {n, "roost starts no child processes yet"},
		"process_shutdown_filter": {x, noteOneProcess},
		"valid_chroot_dirs":       {x, noteOneProcess + "; no chroot per service"},
		"state_dir":               {n, ""},
		"dotlock_use_excl":        {d, ""},
		"lock_method":             {x, noteOwnIndex + "; dovecot-uidlist uses Dovecot's dot-lock"},
		"mmap_disable":            {x, noteOwnIndex + ", which does not mmap"},

		// Logging.
		"log_path":                  {d, ""},
		"info_log_path":             {d, ""},
		"debug_log_path":            {d, ""},
		"syslog_facility":           {d, ""},
		"log_timestamp":             {p, "a subset of strftime"},
		"mail_debug":                {p, "turns on debug lines; few components write them yet"},
		"auth_debug":                {p, "turns on debug lines; few components write them yet"},
		"auth_debug_passwords":      {n, ""},
		"auth_verbose":              {n, ""},
		"auth_verbose_passwords":    {n, ""},
		"verbose_ssl":               {n, ""},
		"log_debug":                 {n, "event filters"},
		"log_core_filter":           {n, "event filters"},
		"login_log_format":          {p, "Dovecot's default format is written; other values are ignored"},
		"login_log_format_elements": {p, "Dovecot's default elements are written; other values are ignored"},
		"mail_log_prefix":           {p, "Dovecot's default prefix is written; other values are ignored"},

		// Login and authentication.
		"login_greeting":             {d, ""},
		"login_trusted_networks":     {p, "plaintext authentication is allowed from them; client address forwarding (ID x-originating-ip) not yet"},
		"disable_plaintext_auth":     {d, "LOGINDISABLED and [PRIVACYREQUIRED] as Dovecot"},
		"auth_mechanisms":            {p, "PLAIN, LOGIN, CRAM-MD5, DIGEST-MD5, SCRAM-SHA-1/256 (and -PLUS), EXTERNAL, ANONYMOUS, OAUTHBEARER, XOAUTH2, APOP (POP3); not NTLM, GSSAPI, OTP, SKEY, RPA"},
		"auth_username_format":       {d, ""},
		"auth_failure_delay":         {d, ""},
		"auth_cache_size":            {d, "LRU by bytes; Dovecot's cache keys from each driver's queries"},
		"auth_cache_ttl":             {d, ""},
		"auth_cache_negative_ttl":    {d, "unknown users, and repeated mismatches after a failure, as Dovecot"},
		"auth_realms":                {d, ""},
		"auth_default_realm":         {d, ""},
		"auth_anonymous_username":    {d, ""},
		"auth_username_chars":        {d, ""},
		"auth_username_translation":  {d, ""},
		"auth_master_user_separator": {d, ""},
		"master_user_separator":      {n, ""},
		"auth_worker_max_count":      {x, noteOneProcess + "; slow hashes run in an in-process pool of GOMAXPROCS goroutines"},
		"auth_socket_path":           {n, "service auth listeners are served; LDA/LMTP look users up in-process"},
		"auth_use_winbind":           {n, "NTLM and GSS-SPNEGO"},
		"auth_winbind_helper_path":   {n, "NTLM and GSS-SPNEGO"},
		"auth_stats":                 {x, noteOldStats},
		"haproxy_trusted_networks":   {n, "HAProxy PROXY protocol"},
		"haproxy_timeout":            {n, "HAProxy PROXY protocol"},

		// TLS.
		"ssl":                          {d, ""},
		"ssl_cert":                     {d, ""},
		"ssl_key":                      {d, ""},
		"ssl_min_protocol":             {d, "Go has no SSLv3: SSLv3 and ANY mean TLSv1"},
		"ssl_cipher_list":              {p, "accepted; Go's crypto/tls picks its own suites"},
		"ssl_cipher_suites":            {p, "accepted; Go's crypto/tls picks its own TLS 1.3 suites"},
		"ssl_prefer_server_ciphers":    {p, "accepted; Go's crypto/tls applies its own preference order"},
		"ssl_dh":                       {x, "Go's crypto/tls has no finite-field DHE suites; ECDHE needs no parameters"},
		"ssl_ca":                       {d, "client certificate authorities for ssl_verify_client_cert"},
		"ssl_verify_client_cert":       {d, "a given certificate must chain to ssl_ca; clients without one still connect"},
		"ssl_require_crl":              {n, ""},
		"ssl_cert_username_field":      {d, "commonName, emailAddress, x500UniqueIdentifier"},
		"auth_ssl_require_client_cert": {p, "IMAP, ManageSieve and auth-client (valid-client-cert); not POP3 yet (it does not pass its TLS state to login)"},
		"auth_ssl_username_from_cert":  {p, "EXTERNAL with the verified certificate's user over IMAP, ManageSieve and auth-client; not POP3 yet"},
		"ssl_crypto_device":            {x, noteOpenSSL},
		"ssl_options":                  {n, "TLS compression is never offered"},
		"ssl_curve_list":               {n, ""},

		// Mail storage.
		"mail_location":                       {p, "maildir only; see Mail storage formats"},
		"mail_home":                           {d, ""},
		"mail_uid":                            {d, ""},
		"mail_gid":                            {d, ""},
		"first_valid_uid":                     {d, ""},
		"last_valid_uid":                      {d, ""},
		"first_valid_gid":                     {n, ""},
		"last_valid_gid":                      {n, ""},
		"mail_privileged_group":               {n, ""},
		"mail_access_groups":                  {n, ""},
		"mail_fsync":                          {d, ""},
		"mail_plugins":                        {p, "every plugin named is checked against the mail plugin table below and warns if not implemented"},
		"mail_chroot":                         {n, ""},
		"mail_full_filesystem_access":         {n, ""},
		"mail_cache_fields":                   {x, noteOwnIndex + "; its cache holds a fixed set computed at save time"},
		"mail_always_cache_fields":            {x, noteOwnIndex + "; its cache holds a fixed set computed at save time"},
		"mail_never_cache_fields":             {x, noteOwnIndex + "; its cache holds a fixed set computed at save time"},
		"mailbox_list_index":                  {x, noteOwnIndex},
		"mailbox_list_index_include_inbox":    {x, noteOwnIndex},
		"mailbox_list_index_very_dirty_syncs": {x, noteOwnIndex},
		"mail_save_crlf":                      {n, ""},
		"mail_attribute_dict":                 {p, "file: dicts (Dovecot's dotlock); empty means dovecot-attributes in the INBOX namespace's mail root; other dict types not yet"},
		"mail_server_comment":                 {d, ""},
		"mail_server_admin":                   {d, ""},
		"mail_attachment_dir":                 {n, "single-instance attachment storage is later work"},
		"mail_attachment_fs":                  {n, "single-instance attachment storage is later work"},
		"mail_attachment_hash":                {n, "single-instance attachment storage is later work"},
		"mail_attachment_min_size":            {n, "single-instance attachment storage is later work"},
		"maildir_copy_with_hardlinks":         {p, "copies are always hard links when possible"},
		"mdbox_preallocate_space":             {n, noteNoDbox},
		"mdbox_rotate_interval":               {n, noteNoDbox},
		"mdbox_rotate_size":                   {n, noteNoDbox},
		"mbox_dirty_syncs":                    {n, noteNoMbox},
		"mbox_dotlock_change_timeout":         {n, noteNoMbox},
		"mbox_lazy_writes":                    {n, noteNoMbox},
		"mbox_lock_timeout":                   {n, noteNoMbox},
		"mbox_md5":                            {n, noteNoMbox},
		"mbox_min_index_size":                 {n, noteNoMbox},
		"mbox_read_locks":                     {n, noteNoMbox},
		"mbox_very_dirty_syncs":               {n, noteNoMbox},
		"mbox_write_locks":                    {n, noteNoMbox},

		// IMAP.
		"imap_max_line_length":      {d, ""},
		"imap_idle_notify_interval": {d, ""},
		"imap_literal_minus":        {n, "LITERAL+ is always advertised"},
		"imap_id_send":              {p, "Dovecot's default answer; other values not yet"},
		"imap_logout_format":        {p, "Dovecot's default format is logged; other values are ignored"},
		"imap_hibernate_timeout":    {x, "idle sessions are goroutines holding kilobytes; there is nothing to hibernate to"},
		"imap_capability":           {n, ""},
		"imap_client_workarounds":   {n, ""},
		"imap_id_log":               {n, ""},
		"imap_metadata":             {p, "METADATA is always offered (roost's default); no does not turn it off"},
		"imap_fetch_failure":        {n, ""},

		// POP3.
		"pop3_uidl_format":        {p, "%v %u as Dovecot; %f %g %m need storage support Maildir does not give yet (the session ends, as Dovecot's does for %m)"},
		"pop3_reuse_xuidl":        {d, ""},
		"pop3_save_uidl":          {p, "needs storage support for the uidlist P field that Maildir does not give yet"},
		"pop3_uidl_duplicates":    {d, ""},
		"pop3_lock_session":       {p, "locks within the roost process; no dovecot-pop3-session.lock file"},
		"pop3_no_flag_updates":    {d, ""},
		"pop3_deleted_flag":       {d, ""},
		"pop3_delete_type":        {d, ""},
		"pop3_logout_format":      {d, ""},
		"pop3_enable_last":        {d, ""},
		"pop3_fast_size_lookups":  {x, "sizes always come from roost's index"},
		"pop3_client_workarounds": {n, ""},

		// Delivery, submission, ManageSieve: not served yet.
		"postmaster_address":            {d, "From of LDA rejections, of Sieve reject rejections (LDA and LMTP) and of vnd.dovecot.report reports; the default expands to the user's domain, else hostname"},
		"hostname":                      {d, ""},
		"recipient_delimiter":           {d, ""},
		"lda_mailbox_autocreate":        {d, ""},
		"lda_mailbox_autosubscribe":     {d, ""},
		"lda_original_recipient_header": {d, ""},
		"quota_full_tempfail":           {p, "over-quota maps to 452 4.2.2 / 552 5.2.2; quota itself is not enforced yet"},
		"lmtp_save_to_detail_mailbox":   {d, ""},
		"lmtp_add_received_header":      {d, ""},
		"lmtp_hdr_delivery_address":     {d, ""},
		"sendmail_path":                 {d, "Sieve redirect, vacation, reject and notify mail: run as `sendmail_path -i -f SENDER -- RCPT...`"},
		"submission_host":               {d, "Sieve outgoing mail over SMTP to host[:port] (port 25 by default) instead of sendmail_path"},
		"rejection_reason":              {n, noteNoDelivery},
		"rejection_subject":             {n, noteNoDelivery},
		"deliver_log_format":            {n, noteNoDelivery},
	}
}

// prefixSupport gives the status of families of global settings by prefix
// when globalSupport does not list the name.
func prefixSupport(name string) (Support, bool) {
	for _, p := range []struct {
		prefix string
		s      Support
	}{
		{"lmtp_", Support{NotYet, noteNoDelivery}},
		{"pop3c_", Support{NotYet, noteNoImapc}},
		{"pop3_", Support{NotYet, ""}},
		{"submission_", Support{NotYet, noteNoSubmit}},
		{"managesieve_", Support{Partial, "implemented: implementation_string, sieve_capability, notify_capability, max_compile_errors, max_line_length, logout_format; client_workarounds is accepted and ignored"}},
		{"imapc_", Support{NotYet, noteNoImapc}},
		{"imap_urlauth_", Support{NotYet, "URLAUTH"}},
		{"director_", Support{Never, noteDirector}},
		{"old_stats_", Support{Never, noteOldStats}},
		{"dsync_", Support{NotYet, noteReplicator}},
		{"replication_", Support{NotYet, noteReplicator}},
		{"replicator_", Support{NotYet, noteReplicator}},
		{"doveadm_", Support{NotYet, "the doveadm server (remote doveadm, HTTP API)"}},
		{"auth_policy_", Support{NotYet, "auth policy server"}},
		{"auth_cache_verify_password_with_worker", Support{Partial, "slow hashes always run in the bounded pool"}},
		{"login_proxy_", Support{NotYet, "proxying"}},
		{"mail_attribute_", Support{NotYet, "METADATA"}},
		{"maildir_", Support{NotYet, ""}},
		{"mail_nfs_", Support{NotYet, ""}},
	} {
		if strings.HasPrefix(name, p.prefix) {
			return p.s, true
		}
	}
	return Support{}, false
}

// globalStatus returns the status of a global setting.
func globalStatus(table map[string]Support, name string) Support {
	if s, ok := table[name]; ok {
		return s
	}
	if s, ok := prefixSupport(name); ok {
		return s
	}
	return Support{Status: NotYet}
}

// sectionSupport is the status of the settings of repeatable sections,
// keyed "section/setting" as in sections.conf. A key without "/" is a
// whole section: it warns once, and the settings inside do not.
func sectionSupport() map[string]Support {
	d, p, n, x := Done, Partial, NotYet, Never
	return map[string]Support{
		"namespace/type":                {p, "private; shared and public namespaces not yet"},
		"namespace/separator":           {d, ""},
		"namespace/prefix":              {d, ""},
		"namespace/location":            {d, ""},
		"namespace/inbox":               {d, ""},
		"namespace/hidden":              {d, ""},
		"namespace/list":                {d, ""},
		"namespace/subscriptions":       {d, ""},
		"namespace/disabled":            {d, ""},
		"namespace/ignore_on_failure":   {n, ""},
		"namespace/order":               {n, ""},
		"mailbox/auto":                  {d, ""},
		"mailbox/special_use":           {d, ""},
		"mailbox/autoexpunge":           {n, ""},
		"mailbox/autoexpunge_max_mails": {n, ""},
		"mailbox/comment":               {n, ""},
		"mailbox/driver":                {n, ""},
		"passdb/driver":                 {p, "see passdb and userdb drivers"},
		"passdb/args":                   {d, ""},
		"passdb/default_fields":         {d, ""},
		"passdb/override_fields":        {d, ""},
		"passdb/deny":                   {d, ""},
		"passdb/master":                 {d, ""},
		"passdb/pass":                   {d, ""},
		"passdb/skip":                   {d, ""},
		"passdb/result_success":         {d, ""},
		"passdb/result_failure":         {d, ""},
		"passdb/result_internalfail":    {d, ""},
		"passdb/mechanisms":             {d, ""},
		"passdb/username_filter":        {n, ""},
		"passdb/name":                   {n, ""},
		"passdb/auth_verbose":           {n, ""},
		"userdb/driver":                 {p, "see passdb and userdb drivers"},
		"userdb/args":                   {d, ""},
		"userdb/default_fields":         {d, ""},
		"userdb/override_fields":        {d, ""},
		"userdb/skip":                   {d, ""},
		"userdb/result_success":         {d, ""},
		"userdb/result_failure":         {d, ""},
		"userdb/result_internalfail":    {d, ""},
		"userdb/name":                   {n, ""},
		"userdb/auth_verbose":           {n, ""},
		"service/process_limit":         {n, "no connection limit yet"},
		"service/client_limit":          {n, "no connection limit yet"},
		"service/executable":            {n, "script services (quota-warning); otherwise " + noteOneProcess},
		"service/chroot":                {x, noteOneProcess},
		"service/drop_priv_before_exec": {x, noteOneProcess},
		"service/extra_groups":          {x, noteOneProcess},
		"service/group":                 {x, noteOneProcess},
		"service/user":                  {x, noteOneProcess},
		"service/privileged_group":      {x, noteOneProcess},
		"service/process_min_avail":     {x, noteOneProcess},
		"service/service_count":         {x, noteOneProcess},
		"service/vsz_limit":             {x, noteOneProcess},
		"service/idle_kill":             {x, noteOneProcess},
		"service/type":                  {x, noteOneProcess},
		"service/protocol":              {x, noteOneProcess},
		"inet_listener/address":         {d, ""},
		"inet_listener/port":            {d, "imap-login's listeners; other services are not served yet"},
		"inet_listener/ssl":             {d, ""},
		"inet_listener/haproxy":         {n, "HAProxy PROXY protocol"},
		"inet_listener/reuse_port":      {n, ""},
		"unix_listener":                 {p, "auth (auth-client, auth-master, auth-userdb) and lmtp listeners; relative paths under base_dir"},
		"fifo_listener":                 {x, "fifos connect Dovecot's internal processes; " + noteOneProcess},
	}
}

// pluginSupport is the status of the plugin { } settings named in the
// seeds, by name with digits removed (quota_rule2 is quota_rule).
func pluginSupport() map[string]Support {
	n, x := NotYet, Never
	d, p := Done, Partial
	sieve := "Pigeonhole file storage: scripts in DIR/NAME.sieve, the active one as a symlink"
	rt := "passed to the Sieve runtime"
	sieveRows := map[string]Support{
		"sieve":                         {d, "`file:DIR;active=LINK` and the old path form with sieve_dir; default file:~/sieve;active=~/.dovecot.sieve"},
		"sieve_dir":                     {d, sieve},
		"sieve_global_path":             {d, "alias of sieve_default (and global_script_path): run when the user has no active script"},
		"sieve_global_dir":              {d, "where include :global looks"},
		"sieve_before":                  {d, "files or directories of *.sieve, numbered sieve_before2 ...; run while the implicit keep stays"},
		"sieve_after":                   {d, "as sieve_before, after the user's script"},
		"sieve_default":                 {d, ""},
		"sieve_extensions":              {d, rt + "; as in Pigeonhole, editheader, spamtest(plus), virustest, vnd.dovecot.debug, vnd.dovecot.environment (items vnd.dovecot.config.NAME from sieve_env_NAME), vnd.dovecot.report, extlists, mboxmetadata, servermetadata and the extprograms are only enabled by naming them"},
		"sieve_global_extensions":       {d, rt + "; for sieve_before/after and other global scripts"},
		"sieve_report_from":             {d, "From of vnd.dovecot.report reports: postmaster (default), sender, recipient, orig_recipient, user_email or <address>"},
		"sieve_extlists_list":           {p, "extlists (RFC 6134) lists as Pigeonhole 2.4 names them; members are keys priv/sieve/extlists/VALUE of a file dict at sieve_extlists_list/NAME/dict/file/path (Pigeonhole 0.5 has no extlists)"},
		"sieve_plugins":                 {p, "sieve_imapsieve and sieve_extprograms; sieve_extdata is not built"},
		"sieve_max_script_size":         {d, "checked by ManageSieve PUTSCRIPT/HAVESPACE (QUOTA/MAXSIZE) and the compiler"},
		"sieve_quota_max_scripts":       {d, "QUOTA/MAXSCRIPTS"},
		"sieve_quota_max_storage":       {d, "QUOTA/MAXSTORAGE"},
		"sieve_max_actions":             {d, rt},
		"sieve_max_redirects":           {d, rt + "; advertised as MAXREDIRECTS"},
		"sieve_vacation_min_period":     {d, rt},
		"sieve_vacation_max_period":     {d, rt},
		"sieve_vacation_default_period": {d, rt + "; replies remembered per user in ~/.roost.lda-dupes (not Dovecot's binary .dovecot.lda-dupes)"},
		"sieve_redirect_envelope_from":  {d, rt},
		"sieve_user_log":                {p, "compile and run-time errors and debug_log messages of the personal script go to the active path + .log (~/.dovecot.sieve.log), as Pigeonhole words them; the setting itself is not read"},
		"sieve_pipe_bin_dir":            {d, "vnd.dovecot.pipe programs; run without a shell, environment USER HOME HOST SENDER RECIPIENT ORIG_RECIPIENT"},
		"sieve_filter_bin_dir":          {d, "vnd.dovecot.filter programs"},
		"sieve_execute_bin_dir":         {d, "vnd.dovecot.execute programs"},
		"sieve_pipe_exec_timeout":       {d, "default 10s, 0 = none; the program's process group is killed"},
		"sieve_filter_exec_timeout":     {d, "as sieve_pipe_exec_timeout"},
		"sieve_execute_exec_timeout":    {d, "as sieve_pipe_exec_timeout"},
		"sieve_pipe_input_eol":          {d, "crlf (default) or lf"},
		"sieve_filter_input_eol":        {d, "crlf (default) or lf"},
		"sieve_execute_input_eol":       {d, "crlf (default) or lf"},
		"sieve_pipe_socket_dir":         {NotYet, "programs behind unix sockets (script services) are not supported"},
		"sieve_filter_socket_dir":       {NotYet, "as sieve_pipe_socket_dir"},
		"sieve_execute_socket_dir":      {NotYet, "as sieve_pipe_socket_dir"},
		"imapsieve_expunge_discarded":   {d, "discarded messages are flagged \\Deleted, and expunged only with this set"},
		"imapsieve_url":                 {d, "advertised as IMAPSIEVE=<url>; a mailbox's (else the server's) /shared/imapsieve/script METADATA entry names the user's script, run for every cause between the before and after scripts"},
	}
	quota := ""
	m := map[string]Support{
		"imapsieve_mailbox_name":   {Done, "`*` and `?` wildcards; INBOX case-insensitive"},
		"imapsieve_mailbox_from":   {Done, ""},
		"imapsieve_mailbox_causes": {Done, "APPEND, COPY (COPY and MOVE), FLAG"},
		"imapsieve_mailbox_before": {Done, "`file:` locations; run as global scripts (sieve_global_extensions apply)"},
		"imapsieve_mailbox_after":  {Done, "as imapsieve_mailbox_before"},
		"quota":                    {n, quota},
		"quota_rule":               {n, quota},
		"quota_warning":            {n, quota},
		"quota_grace":              {n, quota},
		"quota_max_mail_size":      {n, quota},
		"quota_vsizes":             {n, quota},
		"quota_exceeded_message":   {n, quota},
		"quota_status_success":     {n, "quota policy service not yet"},
		"quota_status_nouser":      {n, "quota policy service not yet"},
		"quota_status_overquota":   {n, "quota policy service not yet"},
		"autocreate":               {n, "legacy Dovecot 2.0 plugin setting; mailbox { auto = create } does this"},
		"autosubscribe":            {n, "legacy Dovecot 2.0 plugin setting; mailbox { auto = subscribe } does this"},
		"acl":                      {n, ""},
		"acl_anyone":               {n, ""},
		"acl_shared_dict":          {n, ""},
		"zlib_save":                {n, "compression is later work"},
		"zlib_save_level":          {n, "compression is later work"},
		"mail_replica":             {n, noteReplicator},
		"expire":                   {x, "the expire plugin was removed in Dovecot 2.3; mailbox { autoexpunge } replaces it"},
	}
	for k, v := range sieveRows {
		m[k] = v
	}
	return m
}

// pluginKey is the pluginSupport key of a plugin setting: its name with
// the digits of numbered variants removed (quota2_rule3 is quota_rule).
func pluginKey(name string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return -1
		}
		return r
	}, name)
}

// mailPluginSupport is the status of mail_plugins values.
func mailPluginSupport() map[string]Support {
	n, x := NotYet, Never
	return map[string]Support{
		"quota":             {n, ""},
		"imap_quota":        {n, ""},
		"quota_clone":       {n, ""},
		"sieve":             {Done, "Sieve at LMTP and LDA delivery: sieve_before, the active script or sieve_default, sieve_after"},
		"imap_sieve":        {Done, "IMAPSieve (RFC 6785): imapsieve_mailboxN rules and, with imapsieve_url, per-mailbox scripts from METADATA run on APPEND, COPY/MOVE and flag changes"},
		"acl":               {n, ""},
		"imap_acl":          {n, ""},
		"zlib":              {n, "compression is later work"},
		"imap_zlib":         {n, "COMPRESS=DEFLATE"},
		"fts":               {n, ""},
		"fts_lucene":        {n, ""},
		"fts_solr":          {n, ""},
		"fts_squat":         {x, "removed upstream after 2.3"},
		"lazy_expunge":      {n, ""},
		"mail_log":          {n, ""},
		"notify":            {n, ""},
		"push_notification": {n, ""},
		"last_login":        {n, ""},
		"trash":             {n, ""},
		"virtual":           {n, ""},
		"welcome":           {n, ""},
		"mail_crypt":        {n, ""},
		"listescape":        {n, ""},
		"replication":       {n, noteReplicator},
		"old_stats":         {x, noteOldStats},
		"imap_old_stats":    {x, noteOldStats},
		"autocreate":        {n, "removed in Dovecot 2.3; mailbox { auto } is done; mapping the legacy settings is planned"},
		"expire":            {x, "removed in Dovecot 2.3; mailbox { autoexpunge } replaces it"},
	}
}

// protocolSupport is the status of protocols values.
func protocolSupport() map[string]Support {
	n := NotYet
	return map[string]Support{
		"imap":       {Done, "see docs/rfc-status.md for the extensions"},
		"none":       {Done, ""},
		"pop3":       {Done, "RFC 1939, 2449, 2595, 5034"},
		"lmtp":       {Done, "RFC 2033; see docs/rfc-status.md"},
		"sieve":      {Done, "ManageSieve (RFC 5804); UNAUTHENTICATE too"},
		"submission": {n, ""},
	}
}

// driverSupport is the status of passdb and userdb drivers, keyed
// "passdb/NAME" and "userdb/NAME".
func driverSupport() map[string]Support {
	d, n, x := Done, NotYet, Never
	return map[string]Support{
		"passdb/passwd-file":   {d, ""},
		"passdb/static":        {d, ""},
		"passdb/sql":           {d, "pgsql, mysql, sqlite; update_query ignored"},
		"passdb/ldap":          {d, "lookups and authentication binds; no SASL binds"},
		"passdb/pam":           {n, ""},
		"passdb/passwd":        {n, ""},
		"passdb/shadow":        {n, ""},
		"passdb/checkpassword": {n, ""},
		"passdb/imap":          {n, ""},
		"passdb/oauth2":        {d, "introspection (auth, get, post as RFC 7662) and local JWT validation (HS/RS/PS/ES 256-512, fs:posix key dict); grant_url and openid_configuration_url ignored"},
		"passdb/lua":           {n, ""},
		"passdb/dict":          {n, ""},
		"passdb/bsdauth":       {x, "BSD only"},
		"passdb/vpopmail":      {x, "deprecated upstream"},
		"userdb/passwd-file":   {d, ""},
		"userdb/static":        {d, ""},
		"userdb/prefetch":      {d, ""},
		"userdb/sql":           {d, "pgsql, mysql, sqlite; user_query and iterate_query"},
		"userdb/ldap":          {d, ""},
		"userdb/passwd":        {n, "per-user system uids also need per-uid workers"},
		"userdb/checkpassword": {n, ""},
		"userdb/lua":           {n, ""},
		"userdb/dict":          {n, ""},
		"userdb/vpopmail":      {x, "deprecated upstream"},
	}
}

// storageSupport is the status of mail_location formats.
func storageSupport() map[string]Support {
	n, x := NotYet, Never
	return map[string]Support{
		"maildir": {Partial, "Maildir++ and LAYOUT=fs, INBOX=, CONTROL=, INDEX= (roost's own index), DIRNAME=, UTF-8; maildirsize quota not yet"},
		"mbox":    {n, noteNoMbox},
		"sdbox":   {n, noteNoDbox},
		"mdbox":   {n, noteNoDbox},
		"imapc":   {n, noteNoImapc},
		"pop3c":   {n, noteNoImapc},
		"shared":  {n, "shared namespaces"},
		"virtual": {n, "virtual mailboxes"},
		"obox":    {x, "Dovecot Pro (closed) only; roost's own object-store format is later work"},
	}
}
