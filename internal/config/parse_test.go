package config

import (
	"strings"
	"testing"
)

func parseMap(t *testing.T, files MapFS, opts Options) (*File, error) {
	t.Helper()
	opts.FS = files
	return ParseFileOptions("/etc/dovecot/dovecot.conf", opts)
}

func mustParse(t *testing.T, files MapFS) *File {
	t.Helper()
	f, err := parseMap(t, files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseBasics(t *testing.T) {
	t.Parallel()
	f := mustParse(t, MapFS{"/etc/dovecot/dovecot.conf": `# comment
protocols = imap lmtp
listen=127.0.0.1,::1
login_greeting = "Hello # there" # comment
quoted = 'a \'b\' c'
special_use = \Drafts
long = one \
   two
service imap-login {
  inet_listener imaps {
    port = 993 # trailing
  }
}
namespace inbox {
mailbox "Sent Messages" {
special_use = \Sent
}
}
passdb {
	driver = sql
 }
`})
	r := f.Root
	for key, want := range map[string]string{
		"protocols": "imap lmtp", "listen": "127.0.0.1,::1", "login_greeting": "Hello # there",
		"quoted": "a 'b' c", "special_use": `\Drafts`, "long": "one two",
	} {
		if got := r.ValueOf(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	svc := r.Sections("service")
	if len(svc) != 1 || svc[0].Name != "imap-login" {
		t.Fatalf("service sections: %+v", svc)
	}
	l := svc[0].Sections("inet_listener")[0]
	if l.Name != "imaps" || l.ValueOf("port") != "993" {
		t.Errorf("listener: %+v", l)
	}
	if p, _ := l.Get("port"); p.Line != 11 || p.File != "/etc/dovecot/dovecot.conf" {
		t.Errorf("port pos = %s", p.Pos)
	}
	if lg, _ := r.Get("long"); lg.Line != 7 {
		t.Errorf("continued line pos = %s", lg.Pos)
	}
	mb := r.Sections("namespace")[0].Sections("mailbox")[0]
	if mb.Name != "Sent Messages" {
		t.Errorf("mailbox name %q", mb.Name)
	}
	if pdb := r.Sections("passdb"); len(pdb) != 1 || pdb[0].Name != "" || pdb[0].ValueOf("driver") != "sql" {
		t.Errorf("passdb: %+v", pdb)
	}
}

func TestIncludes(t *testing.T) {
	t.Parallel()
	f := mustParse(t, MapFS{
		"/etc/dovecot/dovecot.conf":                     "!include_try /usr/share/dovecot/protocols.d/*.protocol\n!include conf.d/*.conf\n!include_try missing.conf\n!include_try nomatch/*.conf\n",
		"/usr/share/dovecot/protocols.d/imapd.protocol": "protocols = $protocols imap\n",
		"/usr/share/dovecot/protocols.d/lmtpd.protocol": "protocols = $protocols lmtp\n",
		"/etc/dovecot/conf.d/20-b.conf":                 "b = 2\nprotocol lmtp {\n!include ../inner.ext\n}\n",
		"/etc/dovecot/conf.d/10-a.conf":                 "a = 1\n",
		"/etc/dovecot/inner.ext":                        "mail_plugins = $mail_plugins sieve\n",
		"/etc/ssl/cert.pem":                             "CERT\n",
	})
	if got := f.Root.ValueOf("protocols"); got != " imap lmtp" {
		t.Errorf("protocols = %q", got)
	}
	want := []string{"/etc/dovecot/dovecot.conf", "/usr/share/dovecot/protocols.d/imapd.protocol",
		"/usr/share/dovecot/protocols.d/lmtpd.protocol", "/etc/dovecot/conf.d/10-a.conf",
		"/etc/dovecot/conf.d/20-b.conf", "/etc/dovecot/inner.ext"}
	if strings.Join(f.Files, ",") != strings.Join(want, ",") {
		t.Errorf("files = %v", f.Files)
	}
	n, _ := f.Root.Sections("protocol")[0].Get("mail_plugins")
	if n.Value != " sieve" || n.File != "/etc/dovecot/inner.ext" || n.Line != 1 {
		t.Errorf("mail_plugins node %+v", n)
	}
}

func TestVariables(t *testing.T) {
	t.Parallel()
	defaults := func(k string) (string, bool) {
		if k == "protocols" {
			return "imap pop3 lmtp", true
		}
		return "", k == "mail_plugins"
	}
	f, err := parseMap(t, MapFS{"/etc/dovecot/dovecot.conf": `protocols = $protocols sieve
mail_plugins = $mail_plugins quota
mail_plugins = $mail_plugins imap_quota
protocol imap {
  mail_plugins = $mail_plugins imap_sieve
}
literal = a$b "$mail_plugins"
env = $ENV:HOME x
quoted = "$mail_plugins"
`}, Options{Default: defaults, Getenv: func(string) string { return "/root" }})
	if err != nil {
		t.Fatal(err)
	}
	r := f.Root
	checks := map[string]string{"protocols": "imap pop3 lmtp sieve", "mail_plugins": " quota imap_quota",
		"literal": `a$b "$mail_plugins"`, "env": "/root x", "quoted": "$mail_plugins"}
	for k, want := range checks {
		if got := r.ValueOf(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := r.Sections("protocol")[0].ValueOf("mail_plugins"); got != " quota imap_quota imap_sieve" {
		t.Errorf("protocol imap mail_plugins = %q", got)
	}
	_, err = parseMap(t, MapFS{"/etc/dovecot/dovecot.conf": "x = $nosuch\n"}, Options{Default: defaults})
	if err == nil || !strings.Contains(err.Error(), "dovecot.conf:1: x: unknown variable: $nosuch") {
		t.Errorf("err = %v", err)
	}
}

func TestValueFile(t *testing.T) {
	t.Parallel()
	files := MapFS{
		"/etc/dovecot/dovecot.conf": "ssl_cert = </etc/ssl/cert.pem\nssl_key =< key.pem\n",
		"/etc/ssl/cert.pem":         "-----BEGIN-----\nABC\n",
		"/etc/dovecot/key.pem":      "KEY",
	}
	f := mustParse(t, files)
	n, _ := f.Root.Get("ssl_cert")
	if n.Value != "-----BEGIN-----\nABC" || n.ValueFile != "/etc/ssl/cert.pem" {
		t.Errorf("ssl_cert = %+v", n)
	}
	if f.Root.ValueOf("ssl_key") != "KEY" {
		t.Errorf("ssl_key = %q", f.Root.ValueOf("ssl_key"))
	}
	f, err := parseMap(t, files, Options{SkipValueFiles: true})
	if err != nil || f.Root.ValueOf("ssl_cert") != "" {
		t.Errorf("skip: %v %q", err, f.Root.ValueOf("ssl_cert"))
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ conf, want string }{
		{"a = 1\n}\n", "dovecot.conf:2: unexpected '}'"},
		{"service imap {\n  a = 1\n", `dovecot.conf: missing '}' (section "service" opened at /etc/dovecot/dovecot.conf:1)`},
		{"\nfoo\n", `dovecot.conf:2: expecting '=' after "foo"`},
		{"foo bar\n", "dovecot.conf:1: expecting '{'"},
		{"foo bar { x\n", "dovecot.conf:1: garbage after '{'"},
		{"!include nosuch.conf\n", "dovecot.conf:1: include /etc/dovecot/nosuch.conf: file does not exist"},
		{"!include conf.d/*.conf\n", "dovecot.conf:1: include conf.d/*.conf: no matches"},
		{"ssl_cert = </nosuch\n", "dovecot.conf:1: ssl_cert: can't open file /nosuch: file does not exist"},
		{"!include dovecot.conf\n", "includes nested too deeply"},
		{"mailbox \"Sent {\n", "missing closing quote"},
	} {
		_, err := parseMap(t, MapFS{"/etc/dovecot/dovecot.conf": tc.conf}, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.conf, err, tc.want)
		}
	}
}

func TestParseNoFS(t *testing.T) {
	t.Parallel()
	_, err := Parse("x.conf", strings.NewReader("!include a.conf\n"), Options{})
	if err == nil || !strings.Contains(err.Error(), "x.conf:1") {
		t.Errorf("err = %v", err)
	}
}

// TestSeedSQLConf parses the seeds' dovecot-sql.conf files (same syntax,
// read by the sql driver).
func TestSeedSQLConf(t *testing.T) {
	t.Parallel()
	f, err := Parse("dovecot-sql.conf", strings.NewReader(`driver = pgsql
connect = host=localhost dbname=mail user=mailreader password=some-password
default_pass_scheme = SHA512
password_query = SELECT email as user, password, 'maildir:/home/mail'||maildir as userdb_mail FROM users WHERE email = '%u'
user_query = SELECT '/home/mail/'||maildir as home, uid, gid, email FROM users WHERE email = '%u'
#default_pass_scheme = SHA512-CRYPT
# FROM users WHERE username = '%n' AND domain = '%d'
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Root.ValueOf("password_query"); got != "SELECT email as user, password, 'maildir:/home/mail'||maildir as userdb_mail FROM users WHERE email = '%u'" {
		t.Errorf("password_query = %q", got)
	}
	if got := f.Root.ValueOf("connect"); got != "host=localhost dbname=mail user=mailreader password=some-password" {
		t.Errorf("connect = %q", got)
	}
}
