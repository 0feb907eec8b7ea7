package settings

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"roost/internal/config"
)

func load(t *testing.T, conf string, extra config.MapFS) (*Snapshot, error) {
	t.Helper()
	fs := config.MapFS{"/etc/dovecot/dovecot.conf": conf}
	for k, v := range extra {
		fs[k] = v
	}
	return LoadFile("/etc/dovecot/dovecot.conf", Options{FS: fs})
}

func TestTypedAndFilters(t *testing.T) {
	t.Parallel()
	snap, err := load(t, `protocols = imap
ssl = required
ssl_cert = </etc/ssl/c.pem
auth_failure_delay = 5 secs
imap_max_line_length = 10M
login_trusted_networks = 10.0.0.0/8 192.0.2.1
mail_plugins = $mail_plugins quota
namespace inbox {
  inbox = yes
  separator = /
  mailbox Junk {
    auto = subscribe
    autoexpunge = 90d
    special_use = \Junk
  }
}
passdb {
  driver = sql
  args = /etc/dovecot/sql.conf
}
userdb {
  driver = static
}
service imap-login {
  inet_listener imaps {
    port = 9993
  }
}
service auth {
  unix_listener auth_userdb {
    path = /var/spool/postfix/private/auth
    mode = 0660
  }
}
plugin {
  quota = maildir:User quota
  quota_grace = 10%%
}
protocol imap {
  mail_plugins = $mail_plugins imap_quota
  login_greeting = imap
}
local 192.0.2.0/24 {
  login_greeting = local
}
remote 10.0.0.0/8 {
  login_greeting = remote
}
local_name mail.example.com {
  ssl_cert = </etc/ssl/sni.pem
}
`, config.MapFS{"/etc/ssl/c.pem": "CERT\n", "/etc/ssl/sni.pem": "SNI\n"})
	if err != nil {
		t.Fatal(err)
	}
	g := snap.Global()
	if g.SSL.Mode != "required" || g.SSL.Cert != "CERT" || g.SSL.CertFile != "/etc/ssl/c.pem" {
		t.Errorf("ssl = %+v", g.SSL)
	}
	if g.Auth.FailureDelay != 5*time.Second || g.IMAP.MaxLineLength != 10<<20 || g.IMAP.IdleNotifyInterval != 2*time.Minute {
		t.Errorf("auth/imap = %+v %+v", g.Auth, g.IMAP)
	}
	if len(g.Login.TrustedNetworks) != 2 || g.Login.Greeting != "Dovecot (Debian) ready." {
		t.Errorf("login = %+v", g.Login)
	}
	if len(g.Namespaces) != 1 || g.Namespaces[0].Separator != "/" || g.Namespaces[0].Mailboxes[0].Autoexpunge != 90*24*time.Hour {
		t.Errorf("namespaces = %+v", g.Namespaces)
	}
	if len(g.Passdbs) != 1 || g.Passdbs[0].ResultSuccess != "return-ok" || g.Userdbs[0].Driver != "static" {
		t.Errorf("authdbs = %+v %+v", g.Passdbs, g.Userdbs)
	}
	if g.Plugin["quota_grace"] != "10%%" || g.Mail.FirstValidUID != 500 {
		t.Errorf("plugin = %v, mail = %+v", g.Plugin, g.Mail)
	}
	var imapLogin, auth Service
	for _, s := range g.Services {
		switch s.Name {
		case "imap-login":
			imapLogin = s
		case "auth":
			auth = s
		}
	}
	if len(imapLogin.InetListeners) != 2 || imapLogin.InetListeners[1].Port != 9993 || !imapLogin.InetListeners[1].SSL {
		t.Errorf("imap-login = %+v", imapLogin)
	}
	found := false
	for _, u := range auth.UnixListeners {
		if u.Path == "/var/spool/postfix/private/auth" && u.Mode == 0o660 {
			found = true
		}
	}
	if !found {
		t.Errorf("auth listeners = %+v", auth.UnixListeners)
	}

	for _, tc := range []struct {
		f        Filter
		greeting string
		plugins  string
		cert     string
	}{
		{Filter{}, "Dovecot (Debian) ready.", "quota", "CERT"},
		{Filter{Protocol: "imap"}, "imap", "quota imap_quota", "CERT"},
		{Filter{Protocol: "imap", Remote: netip.MustParseAddr("10.1.2.3")}, "remote", "quota imap_quota", "CERT"},
		{Filter{Protocol: "imap", Remote: netip.MustParseAddr("10.1.2.3"), Local: netip.MustParseAddr("192.0.2.5")}, "local", "quota imap_quota", "CERT"},
		{Filter{Protocol: "pop3", LocalName: "MAIL.example.com"}, "Dovecot (Debian) ready.", "quota", "SNI"},
	} {
		st := snap.For(tc.f)
		if st.Login.Greeting != tc.greeting || strings.Join(st.Mail.Plugins, " ") != tc.plugins || st.SSL.Cert != tc.cert {
			t.Errorf("For(%+v): greeting %q plugins %v cert %q", tc.f, st.Login.Greeting, st.Mail.Plugins, st.SSL.Cert)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ conf, want string }{
		{"foo = bar\n", "dovecot.conf:1: Unknown setting: foo"},
		{"\nmail_debug = maybe\n", "dovecot.conf:2: Invalid setting mail_debug: invalid boolean value: maybe"},
		{"imap_max_line_length = 10X\n", "Invalid setting imap_max_line_length: invalid size: 10X"},
		{"auth_failure_delay = 5 fortnights\n", "invalid time interval: 5 fortnights"},
		{"first_valid_uid = -1\n", "invalid number: -1"},
		{"ssl = maybe\n", `Invalid setting ssl: invalid value "maybe"`},
		{"service imap {\n  bogus = 1\n}\n", "dovecot.conf:2: Unknown setting: bogus"},
		{"service imap {\n  inet_listener x {\n    port = abc\n  }\n}\n", "dovecot.conf:3: Invalid setting port"},
		{"namespace {\n  type = weird\n}\n", "dovecot.conf:2: Invalid setting type"},
		{"namespace {\n  mailbox x {\n    auto = always\n  }\n}\n", "dovecot.conf:3: Invalid setting auto"},
		{"frobnicate {\n}\n", "dovecot.conf:1: Unknown section name: frobnicate"},
		{"local notanip {\n}\n", "dovecot.conf:1: local: invalid address"},
		{"login_trusted_networks = 10.0.0.0/33\n", "Invalid setting login_trusted_networks"},
		{"unix_listener x {\n}\n", "Unknown section name: unix_listener"},
	} {
		_, err := load(t, tc.conf, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.conf, err, tc.want)
		}
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	snap, err := load(t, "protocols = imap submission\nimapc_host = x\nssl_protocols = !SSLv3\nplugin {\n  autocreate = Trash\n}\nglobal_script_path = /x.sieve\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range snap.Warnings() {
		got = append(got, w.String())
	}
	want := []string{
		"/etc/dovecot/dovecot.conf:2: imapc_host: not implemented by roost yet (imapc and pop3c storage are later work)",
		"/etc/dovecot/dovecot.conf:3: ssl_protocols: obsolete setting: ssl_protocols has been replaced by ssl_min_protocol",
		"/etc/dovecot/dovecot.conf:5: autocreate: not implemented by roost yet (legacy Dovecot 2.0 plugin setting; mailbox { auto = create } does this)",
		"/etc/dovecot/dovecot.conf:7: global_script_path: legacy name, use plugin { sieve_global_path } (accepted as alias)",
		"/etc/dovecot/dovecot.conf:1: protocols: protocol submission is not implemented by roost yet",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if snap.Global().Plugin["sieve_global_path"] != "/x.sieve" {
		t.Errorf("alias not applied")
	}
}

func TestWriteSettingsAndAll(t *testing.T) {
	t.Parallel()
	snap, err := load(t, "mail_plugins = $mail_plugins quota\nplugin {\n  sieve = ~/.dovecot.sieve\n}\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSettings(&buf, snap, "mail_plugins", "first_valid_uid", "plugin/sieve"); err != nil {
		t.Fatal(err)
	}
	if want := "mail_plugins = \" quota\"\nfirst_valid_uid = 500\nplugin/sieve = ~/.dovecot.sieve\n"; buf.String() != want {
		t.Errorf("WriteSettings = %q", buf.String())
	}
	if err := WriteSettings(&buf, snap, "nosuch"); err == nil || err.Error() != "Unknown setting: nosuch" {
		t.Errorf("err = %v", err)
	}
	buf.Reset()
	if err := WriteAll(&buf, snap); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"first_valid_uid = 500\n", "service imap-login {\n", "  inet_listener imaps {\n    address = \n", "mail_plugins = \" quota\"\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteAll lacks %q", want)
		}
	}
}

func TestValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		k      kind
		in, cv string
	}{
		{kindSize, "10M", "10 M"}, {kindSize, "123 GB", "123 G"}, {kindSize, "+500M", "500 M"},
		{kindSize, "65536", "64 k"}, {kindSize, "1000", "1000 B"}, {kindSize, "0", "0"},
		{kindTime, "5 secs", "5 secs"}, {kindTime, "1 min", "1 mins"}, {kindTime, "90d", "90 days"},
		{kindTime, "120", "2 mins"}, {kindTime, "14 days", "2 weeks"}, {kindTime, "90 seconds", "90 secs"},
		{kindBool, "YES", "yes"}, {kindMode, "660", "0660"}, {kindUint, "unlimited", "18446744073709551615"},
	} {
		got, err := canonical(tc.k, "x", tc.in)
		if err != nil || got != tc.cv {
			t.Errorf("canonical(%d, %q) = %q, %v; want %q", tc.k, tc.in, got, err, tc.cv)
		}
	}
}

func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"protocols = imap\nservice imap-login {\n inet_listener imaps {\n port = 993\n }\n}\n",
		"namespace inbox {\n mailbox Junk {\n autoexpunge = 90d\n }\n}\nprotocol imap {\n mail_plugins = $mail_plugins x\n}\n",
		"local 10.0.0.0/8 {\n remote ::1 {\n  login_greeting = x\n }\n}\nplugin {\n quota = maildir\n}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, conf string) {
		snap, err := LoadFile("/etc/dovecot/dovecot.conf", Options{FS: config.MapFS{"/etc/dovecot/dovecot.conf": conf}})
		if err != nil {
			return
		}
		snap.For(Filter{Protocol: "imap", Local: netip.MustParseAddr("10.1.1.1"), Remote: netip.MustParseAddr("::1")})
		var buf bytes.Buffer
		if err := WriteNonDefault(&buf, snap); err != nil {
			t.Fatal(err)
		}
	})
}
