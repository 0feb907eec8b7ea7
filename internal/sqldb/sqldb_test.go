package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/auth"
	"roost/internal/staticdb"
)

// seed004Query is seed 004's password_query (PostgreSQL); its || operator
// is also SQLite's.
const seed004Query = "SELECT email as user, password, 'maildir:/home/mail'||maildir as userdb_mail FROM users WHERE email = '%u'"

// seed004Schema is the users table seed 004's query reads, plus columns for
// the extra-field tests.
const seed004Schema = `CREATE TABLE users (
	email VARCHAR(255) PRIMARY KEY,
	password VARCHAR(255),
	maildir VARCHAR(255) NOT NULL,
	nologin TEXT,
	reason TEXT,
	allow_nets TEXT
)`

// testUsers are loaded into every database. Passwords are PLAIN unless
// prefixed; "{SHA512}" is seed 004's doveadm pw -s sha512 output for
// "plain_text_password".
var testUsers = []struct{ email, password, maildir, nologin, reason, nets string }{
	{"foo@domain.com", "{SHA512}6kGUOTfKQdsJLn8AgOZuVLjfAD4nwmhxk5QmjoF800sHpEjqy2jOptvnkUiEHK8Jw0C/MRXmixWLtCpR+TjMpA==", "/domain.com/foo/", "", "", ""},
	{"bare@domain.com", "6kGUOTfKQdsJLn8AgOZuVLjfAD4nwmhxk5QmjoF800sHpEjqy2jOptvnkUiEHK8Jw0C/MRXmixWLtCpR+TjMpA==", "/domain.com/bare/", "", "", ""},
	{"o'brien@domain.com", "{PLAIN}quote", "/domain.com/obrien/", "", "", ""},
	{"closed@domain.com", "{PLAIN}pw", "/domain.com/closed/", "Y", "Account closed", ""},
	{"netonly@domain.com", "{PLAIN}pw", "/domain.com/netonly/", "", "", "10.0.0.0/8"},
}

// BulkUsers is how many generated users the real-server tests load.
const BulkUsers = 3000

func bulkUser(i int) (string, string) {
	return fmt.Sprintf("user%04d@bulk.example", i), fmt.Sprintf("pw%04d", i)
}

// loadUsers creates seed 004's table and fills it with testUsers and
// BulkUsers generated ones. ph is the driver's placeholder style.
func loadUsers(t testing.TB, db *sql.DB, ph func(int) string) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, seed004Schema); err != nil {
		t.Fatalf("create table: %v", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	ins := fmt.Sprintf("INSERT INTO users (email, password, maildir, nologin, reason, allow_nets) VALUES (%s, %s, %s, %s, %s, %s)",
		ph(1), ph(2), ph(3), ph(4), ph(5), ph(6))
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	for _, u := range testUsers {
		if _, err := tx.ExecContext(ctx, ins, u.email, u.password, u.maildir, null(u.nologin), null(u.reason), null(u.nets)); err != nil {
			t.Fatalf("insert %s: %v", u.email, err)
		}
	}
	for i := range BulkUsers {
		name, pw := bulkUser(i)
		if _, err := tx.ExecContext(ctx, ins, name, "{PLAIN}"+pw, "/bulk/"+name+"/", nil, nil, nil); err != nil {
			t.Fatalf("insert %s: %v", name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// commonConf is the part of dovecot-sql.conf.ext every backend shares:
// seed 004's query with the extra-field columns added (one line continued
// with a backslash), seed 000's user_query and an iterate_query.
var commonConf = "default_pass_scheme = SHA512\n" +
	"password_query = " + strings.Replace(seed004Query, " FROM", ", \\\n  nologin, reason, allow_nets FROM", 1) + "\n" +
	"user_query = SELECT '/home/mail/'||maildir as home, 10000 AS uid, 10000 AS gid, email FROM users WHERE email = '%u'\n" +
	"iterate_query = SELECT email AS user FROM users\n"

func sqlitePlaceholder(int) string { return "?" }

// newSQLite writes a database with the test users and a
// dovecot-sql.conf.ext around it; extra lines are appended to the file.
func newSQLite(t testing.TB, extra string) *DB {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "authdb.sqlite")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	loadUsers(t, raw, sqlitePlaceholder)
	raw.Close()
	return openConf(t, dir, "driver = sqlite\nconnect = "+path+"\n"+commonConf+extra)
}

func openConf(t testing.TB, dir, conf string) *DB {
	t.Helper()
	cp := filepath.Join(dir, "dovecot-sql.conf.ext")
	if err := os.WriteFile(cp, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(cp, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// newAuth builds seed 004's chain: sql passdb, prefetch userdb, and a sql
// userdb after it for lookups without a login.
func newAuth(t testing.TB, db *DB) *auth.Auth {
	t.Helper()
	a, err := auth.New(auth.Options{
		Passdbs: []auth.PassdbConfig{{Name: "sql", Driver: NewPassdb(db)}},
		Userdbs: []auth.UserdbConfig{
			{Name: "prefetch", Driver: staticdb.NewPrefetch(false)},
			{Name: "sql", Driver: NewUserdb(db)},
		},
		UsernameFormat: "%u",
		FailureDelay:   -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var remote = netip.MustParseAddrPort("192.0.2.7:40000")

func login(a *auth.Auth, user, pass string) (auth.Result, auth.UserResult) {
	ctx := context.Background()
	req := &auth.Request{Service: "imap", User: user, Remote: remote, Mechanism: "PLAIN"}
	res := a.VerifyPlain(ctx, req, pass)
	if res.Status != auth.OK {
		return res, auth.UserResult{}
	}
	return res, a.LookupUser(ctx, req)
}

// checkBackend runs the driver-independent checks against one database.
func checkBackend(t *testing.T, db *DB) {
	a := newAuth(t, db)
	t.Run("seed004-prefetch", func(t *testing.T) {
		res, ur := login(a, "foo@domain.com", "plain_text_password")
		if res.Status != auth.OK || ur.Status != auth.OK || ur.Fields["mail"] != "maildir:/home/mail/domain.com/foo/" || res.User != "foo@domain.com" {
			t.Fatalf("login = %+v / %+v", res, ur)
		}
		if res, _ := login(a, "foo@domain.com", "wrong"); res.Status != auth.PasswordMismatch {
			t.Errorf("wrong password: %v", res.Status)
		}
		if res, _ := login(a, "bare@domain.com", "plain_text_password"); res.Status != auth.OK {
			t.Errorf("default_pass_scheme SHA512: %v %v", res.Status, res.Err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if res, _ := login(a, "nobody@domain.com", "x"); res.Status != auth.UserUnknown {
			t.Errorf("unknown user: %v %v", res.Status, res.Err)
		}
	})
	t.Run("nologin", func(t *testing.T) {
		res, _ := login(a, "closed@domain.com", "pw")
		if res.Status != auth.OK || !res.Fields.Has("nologin") || res.Fields["reason"] != "Account closed" {
			t.Errorf("closed: %+v", res)
		}
	})
	t.Run("allow_nets", func(t *testing.T) {
		if res, _ := login(a, "netonly@domain.com", "pw"); res.Status != auth.PasswordMismatch {
			t.Errorf("allow_nets from %v: %v", remote, res.Status)
		}
	})
	t.Run("bulk", func(t *testing.T) {
		for _, i := range []int{0, 1, BulkUsers / 2, BulkUsers - 1} {
			name, pw := bulkUser(i)
			if res, ur := login(a, name, pw); res.Status != auth.OK || ur.Status != auth.OK {
				t.Errorf("%s: %v %v %v", name, res.Status, ur.Status, res.Err)
			}
		}
	})
	t.Run("lmtp-lookup", func(t *testing.T) {
		ur := a.LookupUser(context.Background(), &auth.Request{Service: "lmtp", User: "user0001@bulk.example"})
		if ur.Status != auth.OK {
			t.Errorf("lookup: %+v", ur)
		}
		ur = a.LookupUser(context.Background(), &auth.Request{Service: "lmtp", User: "nobody@bulk.example"})
		if ur.Status != auth.UserUnknown {
			t.Errorf("unknown lookup: %+v", ur)
		}
	})
	t.Run("iterate", func(t *testing.T) {
		n := 0
		seen := map[string]bool{}
		err := a.IterateUsers(context.Background(), func(u string) error { n++; seen[u] = true; return nil })
		if err != nil || n != BulkUsers+len(testUsers) || !seen["o'brien@domain.com"] {
			t.Errorf("iterate: %d users, %v", n, err)
		}
	})
	t.Run("injection", func(t *testing.T) { checkInjection(t, a) })
}

// injectionNames are user names that must match nobody (or only the user
// they literally name).
var injectionNames = []string{
	"' OR '1'='1", "foo@domain.com' --", "foo@domain.com'; DROP TABLE users; --",
	`foo@domain.com\' OR 1=1 #`, `\' OR 1=1 -- `, "%", "%u", "%%", "*", "foo@domain.com)(", "a\x00b' OR '1'='1",
	`" OR ""="`, "foo@domain.com' UNION SELECT 'x','{PLAIN}x','y",
}

func checkInjection(t *testing.T, a *auth.Auth) {
	for _, name := range injectionNames {
		res, _ := login(a, name, "x")
		if res.Status != auth.UserUnknown {
			t.Errorf("user %q: %v (%v), want unknown user", name, res.Status, res.Err)
		}
	}
	if res, _ := login(a, "o'brien@domain.com", "quote"); res.Status != auth.OK {
		t.Errorf("user with a quote: %v %v", res.Status, res.Err)
	}
	// The table is still there.
	if res, _ := login(a, "foo@domain.com", "plain_text_password"); res.Status != auth.OK {
		t.Errorf("after injection attempts: %v %v", res.Status, res.Err)
	}
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	checkBackend(t, newSQLite(t, ""))
}

// TestSQLiteDown: a database that cannot answer is a temporary failure,
// never an unknown user.
func TestSQLiteDown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := openConf(t, dir, "driver = sqlite\nconnect = "+filepath.Join(dir, "missing", "x.db")+"\npassword_query = SELECT password FROM users WHERE email = '%u'\n")
	a := newAuth(t, db)
	if res, _ := login(a, "foo@domain.com", "x"); res.Status != auth.InternalFail {
		t.Errorf("missing database: %v", res.Status)
	}
	ur := a.LookupUser(context.Background(), &auth.Request{Service: "lmtp", User: "foo@domain.com"})
	if ur.Status != auth.InternalFail {
		t.Errorf("userdb on missing database: %v", ur.Status)
	}
}

func TestPasswordQueryRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, query string
		want        auth.Status
	}{
		{"no password column", "SELECT email AS user FROM users WHERE email = '%u'", auth.InternalFail},
		{"multiple rows", "SELECT password FROM users", auth.InternalFail},
		{"NULL password", "SELECT NULL AS password FROM users WHERE email = '%u'", auth.PasswordMismatch},
		{"nopassword", "SELECT NULL AS password, 'Y' AS nopassword FROM users WHERE email = '%u'", auth.OK},
		{"password_noscheme", "SELECT '6kGUOTfKQdsJLn8AgOZuVLjfAD4nwmhxk5QmjoF800sHpEjqy2jOptvnkUiEHK8Jw0C/MRXmixWLtCpR+TjMpA==' AS password_noscheme FROM users WHERE email = '%u'", auth.OK},
		{"bad sql", "SELEC password FROM users", auth.InternalFail},
		{"unknown variable", "SELECT password FROM users WHERE email = '%{nosuch}'", auth.InternalFail},
		{"username and domain", "SELECT 'Foo' AS username, 'Domain.com' AS domain, password FROM users WHERE email = '%u'", auth.OK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := newSQLite(t, "password_query = "+c.query+"\n")
			res, _ := login(newAuth(t, db), "foo@domain.com", "plain_text_password")
			if res.Status != c.want {
				t.Errorf("%s: %v (%v), want %v", c.query, res.Status, res.Err, c.want)
			}
			if c.name == "username and domain" && res.User != "Foo@Domain.com" {
				t.Errorf("user = %q", res.User)
			}
		})
	}
}

func TestPrefetchOnly(t *testing.T) {
	t.Parallel()
	db := newSQLite(t, "")
	a, err := auth.New(auth.Options{
		Passdbs:      []auth.PassdbConfig{{Name: "sql", Driver: NewPassdb(db)}},
		Userdbs:      []auth.UserdbConfig{{Name: "prefetch", Driver: staticdb.NewPrefetch(true)}},
		FailureDelay: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ur := login(a, "foo@domain.com", "plain_text_password"); ur.Status != auth.OK || ur.Fields["mail"] == "" {
		t.Errorf("prefetch: %+v", ur)
	}
	// LMTP lookups need a real userdb.
	if ur := a.LookupUser(context.Background(), &auth.Request{Service: "lmtp", User: "foo@domain.com"}); ur.Status != auth.InternalFail {
		t.Errorf("lookup with only prefetch: %v", ur.Status)
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, pg, my string }{
		{"plain", "plain", "plain"},
		{"o'brien", "o''brien", `o\'brien`},
		{`a\'b`, `a\''b`, `a\\\'b`},
		{"q\"\n\r\x1a\x00", "q\"\n\r\x1a\x00", `q\"\n\r\Z\0`},
	}
	for _, c := range cases {
		if got := quoteEscape(c.in); got != c.pg {
			t.Errorf("quoteEscape(%q) = %q, want %q", c.in, got, c.pg)
		}
		if got := mysqlEscape(c.in); got != c.my {
			t.Errorf("mysqlEscape(%q) = %q, want %q", c.in, got, c.my)
		}
	}
}
