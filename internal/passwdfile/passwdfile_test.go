package passwdfile

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"roost/internal/auth"
)

var update = flag.Bool("update", false, "rewrite golden files")

// render prints a parse result in a stable text form.
func render(u *Users, errs []error) string {
	var b strings.Builder
	for _, name := range u.Order {
		e := u.ByName[name]
		fmt.Fprintf(&b, "line %d user=%q password=%q uid=%q gid=%q gecos=%q home=%q shell=%q\n",
			e.Line, e.User, e.Password, e.UID, e.GID, e.Gecos, e.Home, e.Shell)
		keys := make([]string, 0, len(e.Extra))
		for k := range e.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "  %s=%q\n", k, e.Extra[k])
		}
	}
	for _, err := range errs {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	return b.String()
}

func TestParseGolden(t *testing.T) {
	t.Parallel()
	in, err := os.ReadFile("testdata/users.passwd")
	if err != nil {
		t.Fatal(err)
	}
	u, errs, err := Parse(strings.NewReader(string(in)), "users.passwd")
	if err != nil {
		t.Fatal(err)
	}
	got := render(u, errs)
	golden := "testdata/users.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("parse mismatch (run with -update):\n--- got\n%s--- want\n%s", got, want)
	}
}

func TestParseArgs(t *testing.T) {
	t.Parallel()
	a, err := ParseArgs("scheme=plain username_format=%n /etc/imap/%d/passwd")
	if err != nil || a.Scheme != "PLAIN" || a.UsernameFormat != "%n" || a.Path != "/etc/imap/%d/passwd" {
		t.Fatalf("ParseArgs = %+v, %v", a, err)
	}
	a, err = ParseArgs("/etc/dovecot/users")
	if err != nil || a.Scheme != "CRYPT" || a.UsernameFormat != "%u" {
		t.Fatalf("ParseArgs defaults = %+v, %v", a, err)
	}
	for _, bad := range []string{"", "scheme=PLAIN", "/a /b", "bogus=1 /a"} {
		if _, err := ParseArgs(bad); err == nil {
			t.Errorf("ParseArgs(%q) succeeded", bad)
		}
	}
}

func request(user string) *auth.Request {
	return &auth.Request{Service: "imap", User: user, Remote: netip.MustParseAddrPort("10.1.2.3:4000")}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestPassdbUserdb(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "users")
	in, _ := os.ReadFile("testdata/users.passwd")
	writeFile(t, path, string(in))
	pdb, err := NewPassdb(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	udb, _ := NewUserdb(path, Options{})
	ctx := context.Background()
	tests := []struct {
		user, pw string
		want     auth.Status
	}{
		{"bla@example.org", "test", auth.OK},
		{"bla@example.org", "duplicate", auth.PasswordMismatch},
		{"user", "pass", auth.OK},
		{"flags", "geheim", auth.OK},
		{"nopass", "", auth.PasswordMismatch},
		{"crlf2", "y", auth.OK},
		{"badid", "x", auth.UserUnknown},
		{"root", "x", auth.UserUnknown},
		{"ghost", "x", auth.UserUnknown},
	}
	for _, tt := range tests {
		res := pdb.VerifyPlain(ctx, request(tt.user), tt.pw)
		if res.Status != tt.want {
			t.Errorf("VerifyPlain(%s) = %v (%v), want %v", tt.user, res.Status, res.Err, tt.want)
		}
	}
	res := pdb.VerifyPlain(ctx, request("user"), "pass")
	if res.Fields["proxy"] != "y" || res.Fields["host"] != "127.0.0.1" {
		t.Errorf("user fields = %v", res.Fields)
	}
	cr := pdb.LookupCredentials(ctx, request("mailuser"))
	if cr.Status != auth.OK || cr.Password != "{plain}pass" || cr.Fields["userdb_mail"] != "maildir:~/Maildir" {
		t.Errorf("LookupCredentials = %+v", cr)
	}
	ur := udb.LookupUser(ctx, request("mailuser"))
	want := auth.Fields{"uid": "10000", "gid": "10000", "home": "/home/user", "mail": "maildir:~/Maildir", "quota_rule": "*:storage=1G"}
	if ur.Status != auth.OK || fmt.Sprint(ur.Fields) != fmt.Sprint(want) {
		t.Errorf("LookupUser(mailuser) = %+v, want %v", ur, want)
	}
	ur = udb.LookupUser(ctx, request("oldformat"))
	if ur.Fields["mail"] != "mbox:~/mail:INBOX=/var/mail/oldformat" {
		t.Errorf("old format mail = %q", ur.Fields["mail"])
	}
	var users []string
	udb.IterateUsers(ctx, func(u string) error { users = append(users, u); return nil })
	if len(users) != 10 || users[0] != "bla@example.org" {
		t.Errorf("IterateUsers = %v", users)
	}
}

func TestReloadOnChange(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "users")
	writeFile(t, path, "alice:{PLAIN}one:1000:1000::/home/alice::\n")
	pdb, _ := NewPassdb(path, Options{})
	ctx := context.Background()
	if res := pdb.VerifyPlain(ctx, request("alice"), "one"); res.Status != auth.OK {
		t.Fatalf("before: %v", res.Status)
	}
	// Replace by rename: new inode, even if size and mtime were equal.
	tmp := path + ".new"
	writeFile(t, tmp, "alice:{PLAIN}two:1000:1000::/home/alice::\n")
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	if res := pdb.VerifyPlain(ctx, request("alice"), "two"); res.Status != auth.OK {
		t.Fatalf("after rename: %v", res.Status)
	}
	// Rewrite in place with a different size.
	writeFile(t, path, "alice:{PLAIN}three:1000:1000::/home/alice::\nbob:{PLAIN}b\n")
	if res := pdb.VerifyPlain(ctx, request("bob"), "b"); res.Status != auth.OK {
		t.Fatalf("after rewrite: %v", res.Status)
	}
	// Removed file: unknown user, not an internal failure.
	os.Remove(path)
	if res := pdb.VerifyPlain(ctx, request("alice"), "three"); res.Status != auth.UserUnknown {
		t.Fatalf("after remove: %v", res.Status)
	}
}

func TestPerDomainPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "example.org", "passwd"), "alice:{PLAIN}org:1000:1000::/home/alice::userdb_home=/var/vmail/%d/%n\n")
	writeFile(t, filepath.Join(dir, "example.com", "passwd"), "alice:{PLAIN}com:1000:1000\n")
	args := "scheme=PLAIN username_format=%n " + filepath.Join(dir, "%d", "passwd")
	pdb, err := NewPassdb(args, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for user, pw := range map[string]string{"alice@example.org": "org", "alice@example.com": "com"} {
		if res := pdb.VerifyPlain(ctx, request(user), pw); res.Status != auth.OK {
			t.Errorf("%s: %v %v", user, res.Status, res.Err)
		}
	}
	for _, d := range []string{"example.net", "a.example", "b.example"} {
		if res := pdb.VerifyPlain(ctx, request("alice@"+d), "x"); res.Status != auth.UserUnknown {
			t.Errorf("missing domain file: %v", res.Status)
		}
	}
	if n := len(pdb.db.files); n != 2 {
		t.Errorf("cache holds %d files, want 2 (missing files must not be cached)", n)
	}
	res := pdb.VerifyPlain(ctx, request("alice@example.org"), "org")
	if res.Fields["userdb_home"] != "/var/vmail/example.org/alice" {
		t.Errorf("expanded field = %q", res.Fields["userdb_home"])
	}
	udb, _ := NewUserdb(args, Options{})
	if err := udb.IterateUsers(ctx, func(string) error { return nil }); err == nil {
		t.Error("iterating a path with variables succeeded")
	}
}

func TestUnreadableIsInternalFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A directory where the file should be: stat works, open/read fails.
	if err := os.Mkdir(filepath.Join(dir, "users"), 0o755); err != nil {
		t.Fatal(err)
	}
	pdb, _ := NewPassdb(filepath.Join(dir, "users"), Options{})
	if res := pdb.VerifyPlain(context.Background(), request("alice"), "x"); res.Status != auth.InternalFail {
		t.Fatalf("status = %v, want internal failure", res.Status)
	}
}

func FuzzParseLine(f *testing.F) {
	in, _ := os.ReadFile("testdata/users.passwd")
	for _, l := range strings.Split(string(in), "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		e, ok, err := ParseLine(line)
		if err != nil || !ok {
			return
		}
		if strings.HasPrefix(line, "#") || e.User == "" {
			t.Fatalf("ParseLine(%q) accepted %+v", line, e)
		}
	})
}
