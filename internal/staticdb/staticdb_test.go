package staticdb

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"testing"

	"roost/internal/auth"
	"roost/internal/passwdfile"
)

func TestStaticUserdbAllowAll(t *testing.T) {
	t.Parallel()
	u, err := NewUserdb("uid=10000 gid=10000 home=/var/vmail/%d/%n mail=maildir:~/Maildir allow_all_users=yes")
	if err != nil {
		t.Fatal(err)
	}
	res := u.LookupUser(context.Background(), &auth.Request{User: "alice@example.org"})
	info, err := res.Info()
	if res.Status != auth.OK || err != nil || info.UID != 10000 || info.Home != "/var/vmail/example.org/alice" || info.Mail != "maildir:~/Maildir" {
		t.Fatalf("LookupUser = %+v, %+v, %v", res, info, err)
	}
}

func TestStaticUserdbNames(t *testing.T) {
	t.Parallel()
	root, err := user.LookupId("0")
	if err != nil {
		t.Skipf("no user 0: %v", err)
	}
	u, err := NewUserdb("uid=" + root.Username + " gid=" + root.Username + " allow_all_users=yes")
	if err != nil {
		t.Skipf("group %s: %v", root.Username, err)
	}
	if u.fields["uid"] != "0" {
		t.Errorf("uid = %q", u.fields["uid"])
	}
	if _, err := NewUserdb("uid=no-such-user-roost"); err == nil {
		t.Error("unknown user name accepted")
	}
}

// TestStaticUserdbChecksPassdb: without allow_all_users the user must
// exist in the passdb chain (LMTP lookups).
func TestStaticUserdbChecksPassdb(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte("alice@example.org:{PLAIN}pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pdb, err := passwdfile.NewPassdb(path, passwdfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	udb, err := NewUserdb("uid=10000 gid=10000 home=/var/vmail/%d/%n")
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Options{
		Passdbs: []auth.PassdbConfig{{Name: "passwd-file", Driver: pdb}},
		Userdbs: []auth.UserdbConfig{{Name: "static", Driver: udb}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if res := a.LookupUser(ctx, &auth.Request{Service: "lmtp", User: "alice@example.org"}); res.Status != auth.OK {
		t.Errorf("alice: %v %v", res.Status, res.Err)
	}
	if res := a.LookupUser(ctx, &auth.Request{Service: "lmtp", User: "bob@example.org"}); res.Status != auth.UserUnknown {
		t.Errorf("bob: %v", res.Status)
	}
}

func TestStaticPassdb(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p, err := NewPassdb("password=%n-secret proxy=y host=10.0.0.%d")
	if err != nil {
		t.Fatal(err)
	}
	req := &auth.Request{User: "alice@1"}
	if res := p.VerifyPlain(ctx, req, "alice-secret"); res.Status != auth.OK || res.Fields["host"] != "10.0.0.1" {
		t.Errorf("VerifyPlain = %+v", res)
	}
	if res := p.VerifyPlain(ctx, req, "wrong"); res.Status != auth.PasswordMismatch {
		t.Errorf("wrong = %v", res.Status)
	}
	np, err := NewPassdb("nopassword")
	if err != nil {
		t.Fatal(err)
	}
	if res := np.VerifyPlain(ctx, req, "anything"); res.Status != auth.OK {
		t.Errorf("nopassword = %v", res.Status)
	}
	if _, err := NewPassdb("proxy=y"); err == nil {
		t.Error("static passdb without password accepted")
	}
}
