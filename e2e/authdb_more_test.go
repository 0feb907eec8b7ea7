package e2e

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"roost/internal/ldapdb/ldaptest"
	"roost/internal/sqldb/sqldbtest"
)

// LMTP RCPT lookups, POP3 logins (USER/PASS and AUTH PLAIN) and master users against the
// SQL (PostgreSQL, MariaDB) and LDAP backends, on roost alone: Debian's dovecot-pgsql,
// dovecot-mysql and dovecot-ldap are not installed here. The behaviour asserted is Dovecot's: an unknown
// recipient is 550 5.1.1, a backend that is down 451 4.3.0 (never 550), nologin with a
// reason is "-ERR [AUTH] <reason>", an allow_nets refusal a plain authentication failure,
// and a backend that is down "-ERR [SYS/TEMP]".

// authInstall is a mail installation serving IMAP, POP3 and LMTP on loopback ports, whose
// passdb and userdb blocks are replaced with setAuthDBs.
type authInstall struct {
	*mailEnv
	LMTP, POP3 string
}

func newAuthInstall(t *testing.T) *authInstall {
	t.Helper()
	lmtpPort, pop3Port := freePort(t), freePort(t)
	conf := fmt.Sprintf("protocols = imap pop3 lmtp\nhostname = mail.example.net\n"+
		"service lmtp {\n  inet_listener lmtp {\n    address = 127.0.0.1\n    port = %d\n  }\n}\n"+
		"service pop3-login {\n  inet_listener pop3 {\n    port = %d\n  }\n  inet_listener pop3s {\n    port = 0\n  }\n}\n",
		lmtpPort, pop3Port)
	if os.Geteuid() != 0 {
		conf += "service pop3-login {\n  chroot =\n}\n"
	}
	e := newMailEnv(t, withConfig(conf))
	return &authInstall{mailEnv: e, LMTP: fmt.Sprintf("127.0.0.1:%d", lmtpPort), POP3: fmt.Sprintf("127.0.0.1:%d", pop3Port)}
}

// writeArgs writes a driver args file into the installation and returns its path.
func (a *authInstall) writeArgs(t *testing.T, name, args string) string {
	t.Helper()
	p := filepath.Join(a.Dir, name)
	if err := os.WriteFile(p, []byte(args), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// setAuthDBs puts blocks in place of the harness's passdb and userdb, with mail_uid and
// mail_gid for the userdbs that name no uid (as authDBEnv does).
func (a *authInstall) setAuthDBs(t *testing.T, blocks string) {
	t.Helper()
	conf := a.config()
	start, end := strings.Index(conf, "passdb {"), strings.Index(conf, "mail_location")
	if start < 0 || end < start {
		t.Fatal("harness config has no passdb block to replace")
	}
	ids := fmt.Sprintf("mail_uid = %d\nmail_gid = %d\n", a.UID, a.GID)
	if err := os.WriteFile(a.Conf, []byte(conf[:start]+ids+blocks+conf[end:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sqlBlocks is a passdb sql with args, then the given userdb blocks.
func sqlBlocks(args string, userdbs ...string) string {
	return "passdb {\n  driver = sql\n  args = " + args + "\n}\n" + strings.Join(userdbs, "")
}

func userdbBlock(driver, args string) string {
	if args == "" {
		return "userdb {\n  driver = " + driver + "\n}\n"
	}
	return "userdb {\n  driver = " + driver + "\n  args = " + args + "\n}\n"
}

// deliver sends one message to rcpt over LMTP and fails the test unless it is accepted.
func (a *authInstall) deliver(t *testing.T, rcpt, subject string) {
	t.Helper()
	r, err := lmtpTransaction(a.LMTP, rcpt, crlf(testMsg(subject, "for "+rcpt)))
	if err != nil || !strings.HasPrefix(r, "250 2.0.0") {
		t.Fatalf("LMTP delivery to %s: %q (%v)", rcpt, r, err)
	}
}

// expectRcpt checks the reply to RCPT TO:<rcpt>.
func (a *authInstall) expectRcpt(t *testing.T, rcpt, want string) {
	t.Helper()
	if got := rcptProbe(t, a.LMTP, rcpt); !strings.HasPrefix(got, want) {
		t.Errorf("RCPT TO:<%s>: %q, want %q", rcpt, got, want)
	}
}

// expectNewMail checks that Maildir root (its new/ and cur/) holds n messages.
func expectNewMail(t *testing.T, root string, n int) {
	t.Helper()
	got := 0
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(root, sub))
		got += len(ents)
	}
	if got != n {
		t.Errorf("%s: %d messages, want %d", root, got, n)
	}
}

// loopbackSources numbers the connections of dialFresh.
var loopbackSources atomic.Uint32

// dialFresh connects from a source address in 127.0.0.0/8 that no earlier connection of this
// process used, so that the auth penalty per remote address (Dovecot's anvil: 2s after a
// failure, doubling to 15s) never holds back the next attempt of a test.
func dialFresh(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	n := loopbackSources.Add(1)
	src := net.IPv4(127, byte(1+n/62500), byte(n/250%250+1), byte(n%250+1))
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: src}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return nc, bufio.NewReader(nc)
}

// readLine reads one reply line without its CRLF.
func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	l, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

// expectIMAP logs in with LOGIN on a fresh connection (see dialFresh) and checks that the
// tagged reply contains want.
func expectIMAP(t *testing.T, addr, user, pass, want string) {
	t.Helper()
	nc, r := dialFresh(t, addr)
	defer nc.Close()
	readLine(t, r) // greeting
	fmt.Fprintf(nc, "a LOGIN %s %s\r\n", quote(user), quote(pass))
	for {
		l := readLine(t, r)
		if !strings.HasPrefix(l, "a ") {
			continue
		}
		if !strings.Contains(l, want) {
			t.Errorf("LOGIN %q: %s, want %q", user, l, want)
		}
		fmt.Fprintf(nc, "b LOGOUT\r\n")
		return
	}
}

// pop3Auth is how pop3Login authenticates.
type pop3Auth int

const (
	userPass  pop3Auth = iota // USER, then PASS
	authPlain                 // AUTH PLAIN with an initial response (RFC 5034)
)

// pop3Login logs in on a fresh connection and returns the reply to the login; after +OK
// it also returns the reply to STAT. authz is the PLAIN authorization identity.
func pop3Login(t *testing.T, addr string, how pop3Auth, authz, user, pass string) (login, stat string) {
	t.Helper()
	nc, r := dialFresh(t, addr)
	defer nc.Close()
	read := func() string { return readLine(t, r) }
	cmd := func(line string) string {
		fmt.Fprintf(nc, "%s\r\n", line)
		return read()
	}
	read() // greeting
	if how == authPlain {
		login = cmd("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte(authz+"\x00"+user+"\x00"+pass)))
	} else if login = cmd("USER " + user); strings.HasPrefix(login, "+OK") {
		login = cmd("PASS " + pass)
	}
	if strings.HasPrefix(login, "+OK") {
		stat = cmd("STAT")
		cmd("QUIT")
	}
	return login, stat
}

// expectPOP3 logs in with both USER/PASS and AUTH PLAIN and checks each reply's start; it
// returns the STAT reply of the last login.
func expectPOP3(t *testing.T, addr, user, pass, want string) string {
	t.Helper()
	var stat string
	for _, how := range []pop3Auth{userPass, authPlain} {
		var got string
		got, stat = pop3Login(t, addr, how, "", user, pass)
		if !strings.HasPrefix(got, want) {
			t.Errorf("POP3 %s (%s): %q, want %q", user, map[pop3Auth]string{userPass: "USER/PASS", authPlain: "AUTH PLAIN"}[how], got, want)
		}
	}
	return stat
}

const (
	rcptOK      = "250 2.1.5"
	rcptUnknown = "550 5.1.1"
	rcptTemp    = "451 4.3.0"
	popAuthFail = "-ERR [AUTH] Authentication failed."
	popTempFail = "-ERR [SYS/TEMP]"
)

// pgUsers creates seed 004's users table with nologin, reason and allow_nets columns.
func pgUsers(t *testing.T, db *sqldbtest.Server, users int) {
	t.Helper()
	sqldbtest.Exec(t, db.PgAdmin(t),
		"CREATE TABLE users (email VARCHAR(255) PRIMARY KEY, password VARCHAR(255), maildir VARCHAR(255), nologin VARCHAR(8), reason VARCHAR(255), allow_nets VARCHAR(64))",
		fmt.Sprintf("INSERT INTO users SELECT 'user'||i||'@domain.com', '{PLAIN}pw'||i, 'user'||i FROM generate_series(1, %d) AS i", users),
		"INSERT INTO users VALUES ('foo@domain.com', '{SHA512}6kGUOTfKQdsJLn8AgOZuVLjfAD4nwmhxk5QmjoF800sHpEjqy2jOptvnkUiEHK8Jw0C/MRXmixWLtCpR+TjMpA==', 'foo', NULL, NULL, NULL)",
		"INSERT INTO users VALUES ('closed@domain.com', '{PLAIN}pw', 'closed', 'Y', 'Account closed', NULL)",
		"INSERT INTO users VALUES ('far@domain.com', '{PLAIN}pw', 'far', NULL, NULL, '10.0.0.0/8')")
}

// pgArgs is seed 004's dovecot-sql.conf with the userdb_* fields pointing into the
// installation, plus seed 000's user_query for the sql userdb that LMTP needs.
func pgArgs(db *sqldbtest.Server, a *authInstall) string {
	return fmt.Sprintf("driver = pgsql\nconnect = %s\ndefault_pass_scheme = SHA512\n"+
		"password_query = SELECT email as user, password, 'maildir:%[2]s/home/'||maildir||'/Maildir' as userdb_mail, \\\n"+
		"  nologin, reason, allow_nets FROM users WHERE email = '%%u'\n"+
		"user_query = SELECT '%[2]s/home/'||maildir as home, email FROM users WHERE email = '%%u'\n", db.PgConnect(), a.Dir)
}

// TestAuthPostgresLMTPPOP3: seed 004 (sql passdb, prefetch userdb) with seed 000's sql
// userdb after prefetch for LMTP, and seed 004 as written (prefetch alone), side by side on
// one PostgreSQL.
func TestAuthPostgresLMTPPOP3(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Postgres(t)
	pgUsers(t, db, 2000)
	full, seed := newAuthInstall(t), newAuthInstall(t)
	full.setAuthDBs(t, sqlBlocks(full.writeArgs(t, "dovecot-sql.conf", pgArgs(db, full)),
		userdbBlock("prefetch", ""), userdbBlock("sql", filepath.Join(full.Dir, "dovecot-sql.conf"))))
	seed.setAuthDBs(t, sqlBlocks(seed.writeArgs(t, "dovecot-sql.conf", pgArgs(db, seed)), userdbBlock("prefetch", "")))
	startServer(t, full.mailEnv, "roost")
	startServer(t, seed.mailEnv, "roost")

	full.deliver(t, "foo@domain.com", "pg one")
	full.deliver(t, "user1999@domain.com", "pg two")
	expectNewMail(t, full.Maildir("foo"), 1)
	expectNewMail(t, full.Maildir("user1999"), 1)
	full.expectRcpt(t, "nobody@domain.com", rcptUnknown)
	full.expectRcpt(t, "x'OR'1'='1@domain.com", rcptUnknown)
	// Prefetch alone cannot answer a userdb lookup: a temporary failure, never 550.
	seed.expectRcpt(t, "foo@domain.com", rcptTemp)
	seed.expectRcpt(t, "nobody@domain.com", rcptTemp)

	if stat := expectPOP3(t, full.POP3, "foo@domain.com", "plain_text_password", "+OK"); !strings.HasPrefix(stat, "+OK 1 ") {
		t.Errorf("POP3 STAT for foo after one delivery: %q", stat)
	}
	expectPOP3(t, full.POP3, "user1999@domain.com", "pw1999", "+OK")
	expectPOP3(t, seed.POP3, "user5@domain.com", "pw5", "+OK") // prefetch serves the login
	expectPOP3(t, full.POP3, "foo@domain.com", "wrong", popAuthFail)
	expectPOP3(t, full.POP3, "nobody@domain.com", "x", popAuthFail)
	expectPOP3(t, full.POP3, "closed@domain.com", "pw", "-ERR [AUTH] Account closed")
	expectPOP3(t, full.POP3, "far@domain.com", "pw", popAuthFail) // allow_nets refuses 127.0.0.1

	db.Stop()
	full.expectRcpt(t, "foo@domain.com", rcptTemp)
	full.expectRcpt(t, "nobody@domain.com", rcptTemp)
	expectPOP3(t, full.POP3, "foo@domain.com", "plain_text_password", popTempFail)
	expectPOP3(t, full.POP3, "nobody@domain.com", "x", popTempFail)
}

// TestAuthMariaDBLMTPPOP3: seed 001 (mysql passdb, static userdb with allow_all_users=yes)
// and the same without allow_all_users, where the static userdb asks the passdb whether
// the recipient exists, side by side on one MariaDB.
func TestAuthMariaDBLMTPPOP3(t *testing.T) {
	t.Parallel()
	db := sqldbtest.MariaDB(t)
	sqldbtest.Exec(t, db.MyAdmin(t),
		"CREATE TABLE users (username VARCHAR(64), domain VARCHAR(128), password VARCHAR(255), allow_nets VARCHAR(64), nologin VARCHAR(8), reason VARCHAR(255), PRIMARY KEY (username, domain))",
		"INSERT INTO users VALUES ('alice', 'example.net', '{PLAIN}alicepw', NULL, NULL, NULL), ('far', 'example.net', '{PLAIN}pw', '10.0.0.0/8', NULL, NULL), "+
			"('closed', 'example.net', '{PLAIN}pw', NULL, 'Y', 'Mailbox moved')")
	args := "driver = mysql\nconnect = " + db.MyConnect() + "\ndefault_pass_scheme = SHA512-CRYPT\n" +
		"password_query = SELECT username, domain, password, allow_nets, nologin, reason FROM users WHERE username = '%n' AND domain = '%d'\n"
	seed, checked := newAuthInstall(t), newAuthInstall(t)
	for _, a := range []struct {
		inst  *authInstall
		extra string
	}{{seed, " allow_all_users=yes"}, {checked, ""}} {
		static := fmt.Sprintf("uid=%d gid=%d home=%s/home/%%d/%%n%s", a.inst.UID, a.inst.GID, a.inst.Dir, a.extra)
		a.inst.setAuthDBs(t, sqlBlocks(a.inst.writeArgs(t, "dovecot-sql.conf.ext", args), userdbBlock("static", static)))
		startServer(t, a.inst.mailEnv, "roost")
	}

	seed.deliver(t, "alice@example.net", "my one")
	seed.deliver(t, "newuser@example.net", "my two") // AS-05: not in the database, accepted
	expectNewMail(t, filepath.Join(seed.Dir, "home", "example.net", "alice", "Maildir"), 1)
	expectNewMail(t, filepath.Join(seed.Dir, "home", "example.net", "newuser", "Maildir"), 1)
	checked.deliver(t, "alice@example.net", "my three")
	expectNewMail(t, filepath.Join(checked.Dir, "home", "example.net", "alice", "Maildir"), 1)
	checked.expectRcpt(t, "newuser@example.net", rcptUnknown)
	checked.expectRcpt(t, "alice'OR'1'='1@example.net", rcptUnknown)

	if stat := expectPOP3(t, seed.POP3, "alice@example.net", "alicepw", "+OK"); !strings.HasPrefix(stat, "+OK 1 ") {
		t.Errorf("POP3 STAT for alice after one delivery: %q", stat)
	}
	expectPOP3(t, seed.POP3, "alice@example.net", "wrong", popAuthFail)
	expectPOP3(t, seed.POP3, "newuser@example.net", "x", popAuthFail)
	expectPOP3(t, seed.POP3, "closed@example.net", "pw", "-ERR [AUTH] Mailbox moved")
	expectPOP3(t, seed.POP3, "far@example.net", "pw", popAuthFail)

	db.Stop()
	seed.expectRcpt(t, "alice@example.net", rcptOK) // allow_all_users needs no database
	checked.expectRcpt(t, "alice@example.net", rcptTemp)
	checked.expectRcpt(t, "newuser@example.net", rcptTemp)
	expectPOP3(t, seed.POP3, "alice@example.net", "alicepw", popTempFail)
}

// TestAuthLDAPLMTPPOP3: passdb ldap with authentication binds and pass_attrs carrying
// nologin, reason and allow_nets; userdb ldap with the book's %$ home template.
func TestAuthLDAPLMTPPOP3(t *testing.T) {
	t.Parallel()
	var ldif strings.Builder
	for i := range 500 {
		fmt.Fprintf(&ldif, "dn: uid=u%d,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: u%d\ncn: u%d\nsn: u%d\n"+
			"mail: u%d@example.com\nuidNumber: 10000\ngidNumber: 10000\nhomeDirectory: /nonexistent\nuserPassword: pw%d\n",
			i, ldaptest.People, i, i, i, i, i)
		switch i {
		case 7:
			ldif.WriteString("employeeType: Y\ndescription: Account closed\n")
		case 8:
			ldif.WriteString("departmentNumber: 10.0.0.0/8\n")
		}
		ldif.WriteString("\n")
	}
	dir := ldaptest.Start(t, ldif.String())
	a := newAuthInstall(t)
	args := fmt.Sprintf("uris = %s\ntls = yes\ntls_require_cert = never\nauth_bind = yes\nbase = %s\n"+
		"pass_filter = (&(objectClass=posixAccount)(uid=%%u))\n"+
		"pass_attrs = uid=user, employeeType=nologin, description=reason, departmentNumber=allow_nets\n"+
		"user_filter = (&(objectClass=posixAccount)(|(mail=%%u)(uid=%%u)))\n"+
		"user_attrs = uid=home=%s/home/%%$,=uid=%d,=gid=%d\n", dir.URI(), ldaptest.People, a.Dir, a.UID, a.GID)
	p := a.writeArgs(t, "dovecot-ldap.conf.ext", args)
	a.setAuthDBs(t, "passdb {\n  driver = ldap\n  args = "+p+"\n}\n"+userdbBlock("ldap", p))
	startServer(t, a.mailEnv, "roost")

	a.deliver(t, "u42@example.com", "ldap one")
	a.deliver(t, "u43@example.com", "ldap two")
	expectNewMail(t, a.Maildir("u42"), 1)
	expectNewMail(t, a.Maildir("u43"), 1)
	a.expectRcpt(t, "nobody@example.com", rcptUnknown)
	a.expectRcpt(t, "*@example.com", rcptUnknown)

	if stat := expectPOP3(t, a.POP3, "u42", "pw42", "+OK"); !strings.HasPrefix(stat, "+OK 1 ") {
		t.Errorf("POP3 STAT for u42 after one delivery: %q", stat)
	}
	expectPOP3(t, a.POP3, "u499", "pw499", "+OK")
	expectPOP3(t, a.POP3, "u42", "wrong", popAuthFail)
	expectPOP3(t, a.POP3, "nobody", "x", popAuthFail)
	expectPOP3(t, a.POP3, "u7", "pw7", "-ERR [AUTH] Account closed")
	expectPOP3(t, a.POP3, "u8", "pw8", popAuthFail) // allow_nets refuses 127.0.0.1

	dir.Stop()
	a.expectRcpt(t, "u42@example.com", rcptTemp)
	a.expectRcpt(t, "nobody@example.com", rcptTemp)
	expectPOP3(t, a.POP3, "u42", "pw42", popTempFail)
}

// TestAuthSQLMasterUsers: a master passdb in SQL (master = yes, pass = yes) before the
// normal one, auth_master_user_separator = *, over IMAP LOGIN, POP3 USER/PASS and POP3 AUTH
// PLAIN with an authorization identity.
func TestAuthSQLMasterUsers(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Postgres(t)
	pgUsers(t, db, 10)
	sqldbtest.Exec(t, db.PgAdmin(t),
		"CREATE TABLE masters (name VARCHAR(64) PRIMARY KEY, password VARCHAR(255))",
		"INSERT INTO masters VALUES ('admin', '{PLAIN}adminpw')")
	a := newAuthInstall(t)
	users := a.writeArgs(t, "dovecot-sql.conf", pgArgs(db, a))
	masters := a.writeArgs(t, "dovecot-sql-master.conf", "driver = pgsql\nconnect = "+db.PgConnect()+"\n"+
		"password_query = SELECT name AS user, password FROM masters WHERE name = '%u'\n")
	a.setAuthDBs(t, "auth_master_user_separator = *\n"+
		"passdb {\n  driver = sql\n  args = "+masters+"\n  master = yes\n  pass = yes\n}\n"+
		sqlBlocks(users, userdbBlock("prefetch", ""), userdbBlock("sql", users)))
	srv := startServer(t, a.mailEnv, "roost")
	a.deliver(t, "foo@domain.com", "for the master")

	c := dialIMAP(t, srv.Addr(), "foo@domain.com*admin", "adminpw")
	if r := c.must("SELECT INBOX"); !contains(r.untagged, "* 1 EXISTS") {
		t.Errorf("master login as foo: SELECT INBOX %q, want foo's one message", r.untagged)
	}
	c.logout()
	expectIMAP(t, srv.Addr(), "foo@domain.com", "plain_text_password", "OK")
	expectIMAP(t, srv.Addr(), "foo@domain.com*admin", "wrong", "NO [AUTHENTICATIONFAILED]")
	expectIMAP(t, srv.Addr(), "nobody@domain.com*admin", "adminpw", "NO [AUTHENTICATIONFAILED]") // pass = yes: the user must exist
	expectIMAP(t, srv.Addr(), "foo@domain.com*user1@domain.com", "pw1", "NO [AUTHENTICATIONFAILED]")
	expectIMAP(t, srv.Addr(), "admin", "adminpw", "NO [AUTHENTICATIONFAILED]") // a master user is no user

	for _, how := range []pop3Auth{userPass, authPlain} {
		user, authz := "foo@domain.com*admin", ""
		if how == authPlain {
			user, authz = "admin", "foo@domain.com"
		}
		login, stat := pop3Login(t, a.POP3, how, authz, user, "adminpw")
		if !strings.HasPrefix(login, "+OK") || !strings.HasPrefix(stat, "+OK 1 ") {
			t.Errorf("POP3 master login %q/%q: %q, STAT %q; want foo's one message", authz, user, login, stat)
		}
		if login, _ := pop3Login(t, a.POP3, how, authz, user, "wrong"); !strings.HasPrefix(login, popAuthFail) {
			t.Errorf("POP3 master login %q/%q with a wrong password: %q", authz, user, login)
		}
	}
	if login, _ := pop3Login(t, a.POP3, authPlain, "nobody@domain.com", "admin", "adminpw"); !strings.HasPrefix(login, popAuthFail) {
		t.Errorf("POP3 master login as an unknown user: %q", login)
	}
	db.Stop()
	expectIMAP(t, srv.Addr(), "foo@domain.com*admin", "adminpw", "NO [UNAVAILABLE]")
}
