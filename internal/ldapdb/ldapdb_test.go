package ldapdb

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/auth"
	"roost/internal/ldapdb/ldaptest"
	"roost/internal/staticdb"
)

const bulkUsers = 3000

func bulkUser(i int) (string, string) { return fmt.Sprintf("user%04d", i), fmt.Sprintf("pw%04d", i) }

func ssha(pw string) string {
	salt := []byte("saltsalt")
	h := sha1.Sum(append([]byte(pw), salt...))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h[:], salt...))
}

// entry is one posixAccount+inetOrgPerson under ou=people.
func entry(b *strings.Builder, uid, mail, password string, extra ...string) {
	fmt.Fprintf(b, "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: %s\ncn: %s\nsn: %s\n"+
		"mail: %s\nuidNumber: 10000\ngidNumber: 10000\nhomeDirectory: /home/%s\nuserPassword: %s\n",
		escapeRDN(uid), ldaptest.People, uid, uid, uid, mail, uid, password)
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("\n")
}

func escapeRDN(s string) string { return strings.NewReplacer(",", `\,`, "+", `\+`).Replace(s) }

func testLDIF() string {
	var b strings.Builder
	entry(&b, "alice", "alice@example.com", "alicepw")
	entry(&b, "hashed", "hashed@example.com", ssha("hashedpw"))
	entry(&b, "o'brien", "obrien@example.com", "quote")
	entry(&b, "closed", "closed@example.com", "pw", "employeeType: Y", "description: Account closed")
	entry(&b, "netonly", "netonly@example.com", "pw", "roomNumber: 10.0.0.0/8")
	entry(&b, "star*", "star@example.com", "starpw")
	for i := range bulkUsers {
		u, pw := bulkUser(i)
		entry(&b, u, u+"@bulk.example", pw)
	}
	return b.String()
}

// passAttrs prefetch the userdb fields (book §5.7) and map the extra
// fields the tests use.
const passAttrs = "uid=user,userPassword=password,homeDirectory=userdb_home,=userdb_mail=maildir:%{ldap:homeDirectory}/Maildir," +
	"employeeType=nologin,description=reason,roomNumber=allow_nets"

func writeConf(t *testing.T, srv *ldaptest.Server, lines string) *DB {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "dovecot-ldap.conf.ext")
	conf := "uris = " + srv.URI() + "\nbase = " + ldaptest.People + "\n" +
		"user_filter = (&(objectClass=posixAccount)(|(mail=%u)(uid=%u)))\n" +
		"user_attrs = uid=home=/srv/vmail/%$,=uid=10000,=gid=10000\n" +
		"iterate_attrs = uid=user\niterate_filter = (objectClass=posixAccount)\n" + lines
	if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newAuth(t *testing.T, db *DB) *auth.Auth {
	t.Helper()
	a, err := auth.New(auth.Options{
		Passdbs: []auth.PassdbConfig{{Name: "ldap", Driver: NewPassdb(db)}},
		Userdbs: []auth.UserdbConfig{
			{Name: "prefetch", Driver: staticdb.NewPrefetch(false)},
			{Name: "ldap", Driver: NewUserdb(db)},
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

func TestSlapd(t *testing.T) {
	t.Parallel()
	srv := ldaptest.Start(t, testLDIF())
	modes := []struct{ name, conf string }{
		{"lookup", "dn = " + ldaptest.ServiceDN + "\ndnpass = " + ldaptest.ServicePW + "\ndefault_pass_scheme = PLAIN\npass_attrs = " + passAttrs + "\n"},
		{"auth_bind", "dn = " + ldaptest.ServiceDN + "\ndnpass = " + ldaptest.ServicePW + "\nauth_bind = yes\npass_attrs = " + passAttrs + "\n"},
		{"starttls", "tls = yes\ntls_require_cert = never\nauth_bind = yes\npass_attrs = " + passAttrs + "\n"},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			checkDirectory(t, newAuth(t, writeConf(t, srv, m.conf)), true)
		})
	}
	t.Run("auth_bind_userdn", func(t *testing.T) {
		t.Parallel()
		a := newAuth(t, writeConf(t, srv, "auth_bind = yes\nauth_bind_userdn = uid=%u,"+ldaptest.People+"\n"))
		checkDirectory(t, a, false)
	})
	t.Run("down", func(t *testing.T) {
		// Its own server, so the other subtests keep theirs.
		srv2 := ldaptest.Start(t, "")
		a := newAuth(t, writeConf(t, srv2, "auth_bind = yes\npass_attrs = "+passAttrs+"\n"))
		srv2.Stop()
		if res, _ := login(a, "alice", "alicepw"); res.Status != auth.InternalFail {
			t.Errorf("login with slapd down: %v", res.Status)
		}
		if ur := a.LookupUser(context.Background(), &auth.Request{Service: "lmtp", User: "alice@example.com"}); ur.Status != auth.InternalFail {
			t.Errorf("lookup with slapd down: %v", ur.Status)
		}
	})
}

// checkDirectory runs the logins and lookups every mode must answer alike;
// prefetch is false for auth_bind_userdn, which fetches no attributes.
func checkDirectory(t *testing.T, a *auth.Auth, prefetch bool) {
	ctx := context.Background()
	res, ur := login(a, "alice", "alicepw")
	if res.Status != auth.OK || ur.Status != auth.OK {
		t.Fatalf("alice: %v %v / %+v", res.Status, res.Err, ur)
	}
	if prefetch && (ur.Fields["home"] != "/home/alice" || ur.Fields["mail"] != "maildir:/home/alice/Maildir") {
		t.Errorf("prefetched fields: %v", ur.Fields)
	}
	if !prefetch && ur.Fields["home"] != "/srv/vmail/alice" {
		t.Errorf("userdb %%$ template: %v", ur.Fields)
	}
	for _, c := range []struct {
		user, pass string
		want       auth.Status
	}{
		{"alice", "wrong", auth.PasswordMismatch},
		{"alice", "", auth.PasswordMismatch},
		{"hashed", "hashedpw", auth.OK},
		{"o'brien", "quote", auth.OK},
		{"user2999", "pw2999", auth.OK},
		{"star*", "starpw", auth.OK},
	} {
		if res, _ := login(a, c.user, c.pass); res.Status != c.want {
			t.Errorf("%s/%q: %v (%v), want %v", c.user, c.pass, res.Status, res.Err, c.want)
		}
	}
	if prefetch {
		if res, _ := login(a, "closed", "pw"); res.Status != auth.OK || !res.Fields.Has("nologin") || res.Fields["reason"] != "Account closed" {
			t.Errorf("closed: %+v", res)
		}
		if res, _ := login(a, "netonly", "pw"); res.Status != auth.PasswordMismatch {
			t.Errorf("allow_nets: %v", res.Status)
		}
	}
	// LMTP looks users up by address (user_filter matches mail).
	if ur := a.LookupUser(ctx, &auth.Request{Service: "lmtp", User: "user0042@bulk.example"}); ur.Status != auth.OK || ur.Fields["home"] != "/srv/vmail/user0042" {
		t.Errorf("lmtp lookup: %+v", ur)
	}
	if ur := a.LookupUser(ctx, &auth.Request{Service: "lmtp", User: "nobody@example.com"}); ur.Status != auth.UserUnknown {
		t.Errorf("unknown lookup: %+v", ur)
	}
	n := 0
	if err := a.IterateUsers(ctx, func(string) error { n++; return nil }); err != nil || n != bulkUsers+6 {
		t.Errorf("iterate: %d users, %v", n, err)
	}
	for _, name := range []string{"*", "alice)(uid=*", "*)(|(uid=*", "al*", "alice\x00", `alice\2a`, "(uid=alice)",
		"alice,ou=people", "uid=alice," + "ou=people,dc=example,dc=com", "nobody"} {
		res, _ := login(a, name, "alicepw")
		if res.Status != auth.UserUnknown && res.Status != auth.PasswordMismatch {
			t.Errorf("injection %q: %v (%v)", name, res.Status, res.Err)
		}
		if res.Status == auth.OK {
			t.Errorf("injection %q logged in", name)
		}
	}
}

func TestParseAttrs(t *testing.T) {
	t.Parallel()
	got, err := ParseAttrs("homeDirectory=home, uidNumber=uid ,=gid=10000, uid=home=/srv/vmail/%$, mail")
	if err != nil {
		t.Fatal(err)
	}
	want := []Attr{{"homeDirectory", "home", "", false}, {"uidNumber", "uid", "", false}, {"", "gid", "10000", true},
		{"uid", "home", "/srv/vmail/%$", true}, {"mail", "mail", "", false}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParseAttrs = %v", got)
	}
	if _, err := ParseAttrs("=home"); err == nil {
		t.Error("=home accepted")
	}
}

func TestConfErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct{ conf, want string }{
		{"hosts = h\nscope = sideways\n", "c.conf:2: ldap: scope"},
		{"hosts = h\nbogus = 1\n", "c.conf:2: ldap: unknown setting"},
		{"uris = http://x\n", "c.conf:1: ldap: uris"},
		{"hosts = h\nldap_version = 2\n", "c.conf:2: ldap: ldap_version"},
	} {
		p := filepath.Join(dir, "c.conf")
		os.WriteFile(p, []byte(c.conf), 0o600)
		_, err := ParseConfFile(p)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.conf, err, c.want)
		}
	}
}
