package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/ldapdb/ldaptest"
	"roost/internal/sqldb/sqldbtest"
)

// authDBEnv is a mailEnv whose passdb/userdb blocks are replaced, with a
// driver args file written beside dovecot.conf.
func authDBEnv(t *testing.T, argsName, args, blocks string) *mailEnv {
	t.Helper()
	e := newMailEnv(t)
	argsPath := filepath.Join(e.Dir, argsName)
	if err := os.WriteFile(argsPath, []byte(args), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := e.config()
	start, end := strings.Index(conf, "passdb {"), strings.Index(conf, "mail_location")
	if start < 0 || end < start {
		t.Fatal("harness config has no passdb block to replace")
	}
	// Seed 004 sets mail_uid/mail_gid; roost needs them as root when no
	// static userdb names a uid.
	ids := fmt.Sprintf("mail_uid = %d\nmail_gid = %d\n", e.UID, e.GID)
	conf = conf[:start] + ids + strings.ReplaceAll(blocks, "ARGS", argsPath) + conf[end:]
	if err := os.WriteFile(e.Conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// tryLogin logs in on a fresh connection and returns the tagged reply line.
func tryLogin(t *testing.T, srv *server, user, pass string) string {
	t.Helper()
	c := &imapClient{t: t}
	rc, err := dialRaw(srv.Addr(), 1, &c.tr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	c.rc = rc
	r, err := c.do("LOGIN %s %s", quote(user), quote(pass))
	if err != nil {
		t.Fatalf("LOGIN %s: %v", user, err)
	}
	if r.status == "OK" {
		c.do("LOGOUT")
	}
	return r.line
}

func expectLogin(t *testing.T, srv *server, user, pass, want string) {
	t.Helper()
	if got := tryLogin(t, srv, user, pass); !strings.Contains(got, want) {
		t.Errorf("LOGIN %q: %s, want %q", user, got, want)
	}
}

// TestAuthPostgresPrefetch is seed 004: driver = sql with pgsql, a
// password_query returning userdb_* fields, userdb prefetch.
func TestAuthPostgresPrefetch(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Postgres(t)
	env := newMailEnv(t)
	sqldbtest.Exec(t, db.PgAdmin(t),
		"CREATE TABLE users (email VARCHAR(255) PRIMARY KEY, password VARCHAR(255), maildir VARCHAR(255), nologin VARCHAR(8), reason VARCHAR(255))",
		"INSERT INTO users SELECT 'user'||i||'@domain.com', '{PLAIN}pw'||i, 'user'||i FROM generate_series(1, 3000) AS i",
		"INSERT INTO users VALUES ('foo@domain.com', '{SHA512}6kGUOTfKQdsJLn8AgOZuVLjfAD4nwmhxk5QmjoF800sHpEjqy2jOptvnkUiEHK8Jw0C/MRXmixWLtCpR+TjMpA==', 'foo', NULL, NULL)",
		"INSERT INTO users VALUES ('closed@domain.com', '{PLAIN}pw', 'closed', 'Y', 'Account closed')")
	args := fmt.Sprintf("driver = pgsql\nconnect = %s\ndefault_pass_scheme = SHA512\n"+
		"password_query = SELECT email as user, password, 'maildir:%[2]s/home/'||maildir||'/Maildir' as userdb_mail, \\\n"+
		"  '%[2]s/home/'||maildir AS userdb_home, %[3]d AS userdb_uid, %[4]d AS userdb_gid, nologin, reason \\\n"+
		"  FROM users WHERE email = '%%u'\n", db.PgConnect(), env.Dir, env.UID, env.GID)
	e := authDBEnv(t, "dovecot-sql.conf", args, "passdb {\n  driver = sql\n  args = ARGS\n}\nuserdb {\n  driver = prefetch\n}\n")
	srv := startServer(t, e, "roost")
	c := dialIMAP(t, srv.Addr(), "foo@domain.com", "plain_text_password")
	c.must("SELECT INBOX")
	c.logout()
	if _, err := os.Stat(filepath.Join(env.Dir, "home", "foo", "Maildir")); err != nil {
		t.Errorf("prefetched userdb_mail not used: %v", err)
	}
	expectLogin(t, srv, "user2999@domain.com", "pw2999", "OK")
	expectLogin(t, srv, "foo@domain.com", "wrong", "NO [AUTHENTICATIONFAILED]")
	expectLogin(t, srv, "nobody@domain.com", "x", "NO [AUTHENTICATIONFAILED]")
	expectLogin(t, srv, "closed@domain.com", "pw", "NO")
	expectLogin(t, srv, "x' OR '1'='1", "x", "NO [AUTHENTICATIONFAILED]")
	db.Stop()
	expectLogin(t, srv, "foo@domain.com", "plain_text_password", "NO [UNAVAILABLE]")
	expectLogin(t, srv, "nobody@domain.com", "x", "NO [UNAVAILABLE]")
}

// TestAuthMariaDBStatic is seed 001: driver = sql with mysql and a static
// userdb with allow_all_users.
func TestAuthMariaDBStatic(t *testing.T) {
	t.Parallel()
	db := sqldbtest.MariaDB(t)
	sqldbtest.Exec(t, db.MyAdmin(t),
		"CREATE TABLE users (username VARCHAR(64), domain VARCHAR(128), password VARCHAR(255), allow_nets VARCHAR(64), PRIMARY KEY (username, domain))",
		"INSERT INTO users VALUES ('alice', 'example.net', '{PLAIN}alicepw', NULL), ('far', 'example.net', '{PLAIN}pw', '10.0.0.0/8')")
	args := "driver = mysql\nconnect = " + db.MyConnect() + "\ndefault_pass_scheme = SHA512-CRYPT\n" +
		"password_query = SELECT username, domain, password, allow_nets FROM users WHERE username = '%n' AND domain = '%d'\n"
	env := newMailEnv(t)
	e := authDBEnv(t, "dovecot-sql.conf.ext", args, fmt.Sprintf("passdb {\n  driver = sql\n  args = ARGS\n}\n"+
		"userdb {\n  driver = static\n  args = uid=%d gid=%d home=%s/home/%%d/%%n allow_all_users=yes\n}\n", env.UID, env.GID, env.Dir))
	srv := startServer(t, e, "roost")
	expectLogin(t, srv, "alice@example.net", "alicepw", "OK")
	expectLogin(t, srv, "far@example.net", "pw", "NO [AUTHENTICATIONFAILED]") // allow_nets refuses 127.0.0.1
	expectLogin(t, srv, `alice@example.net\' OR 1=1 -- `, "alicepw", "NO [AUTHENTICATIONFAILED]")
	db.Stop()
	expectLogin(t, srv, "alice@example.net", "alicepw", "NO [UNAVAILABLE]")
}

// TestAuthLDAPBind: passdb ldap with authentication binds, userdb ldap with
// the book's %$ template.
func TestAuthLDAPBind(t *testing.T) {
	t.Parallel()
	var ldif strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&ldif, "dn: uid=u%d,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: u%d\ncn: u%d\nsn: u%d\n"+
			"mail: u%d@example.com\nuidNumber: 10000\ngidNumber: 10000\nhomeDirectory: /nonexistent\nuserPassword: pw%d\n\n",
			i, ldaptest.People, i, i, i, i, i)
	}
	dir := ldaptest.Start(t, ldif.String())
	env := newMailEnv(t)
	args := fmt.Sprintf("uris = %s\ntls = yes\ntls_require_cert = never\nauth_bind = yes\nbase = %s\n"+
		"pass_filter = (&(objectClass=posixAccount)(uid=%%u))\npass_attrs = uid=user\n"+
		"user_filter = (&(objectClass=posixAccount)(|(mail=%%u)(uid=%%u)))\n"+
		"user_attrs = uid=home=%s/home/%%$,=uid=%d,=gid=%d\n", dir.URI(), ldaptest.People, env.Dir, env.UID, env.GID)
	e := authDBEnv(t, "dovecot-ldap.conf.ext", args, "passdb {\n  driver = ldap\n  args = ARGS\n}\nuserdb {\n  driver = ldap\n  args = ARGS\n}\n")
	srv := startServer(t, e, "roost")
	c := dialIMAP(t, srv.Addr(), "u42", "pw42")
	c.must("SELECT INBOX")
	c.logout()
	if _, err := os.Stat(filepath.Join(env.Dir, "home", "u42")); err != nil {
		t.Errorf("%%$ home not used: %v", err)
	}
	expectLogin(t, srv, "u2999", "pw2999", "OK")
	expectLogin(t, srv, "u42", "wrong", "NO [AUTHENTICATIONFAILED]")
	expectLogin(t, srv, "*", "pw42", "NO [AUTHENTICATIONFAILED]")
	expectLogin(t, srv, "u42)(uid=*", "pw42", "NO [AUTHENTICATIONFAILED]")
	dir.Stop()
	expectLogin(t, srv, "u42", "pw42", "NO [UNAVAILABLE]")
}
