package maildir_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/maildir"
	"roost/internal/storage"
)

// TestAttributesFromDovecot reads a dovecot-attributes file as Dovecot
// 2.3.19 wrote it (testdata/dovecot-attributes, with the dovecot-uidlist
// GUIDs it was keyed by): server entries kept inside INBOX's, tab-escaped
// values, a renamed mailbox's entries; a change keeps Dovecot's layout.
func TestAttributesFromDovecot(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	root := filepath.Join(home, "Maildir")
	copyTree(t, "testdata/dovecot-attributes", root)
	for _, dir := range []string{root, filepath.Join(root, ".Renamed")} {
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(root, ".Renamed", "maildirfolder"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	u, err := maildir.New(maildir.Options{}).OpenUser(bg, storeConfig(home, "maildir:~/Maildir", "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	ms := u.(storage.MetadataStore)
	check := func(box, want string) {
		t.Helper()
		got, err := ms.GetMetadata(bg, box)
		if err != nil {
			t.Fatalf("GetMetadata(%q): %v", box, err)
		}
		var parts []string
		for _, e := range got {
			parts = append(parts, e.Name+"="+string(e.Value))
		}
		if s := strings.Join(parts, " "); s != want {
			t.Errorf("GetMetadata(%q) = %q, want %q", box, s, want)
		}
	}
	check("", "/private/comment=pc /private/vendor/foo/bar=x /shared/vendor/foo/bar=y")
	check("INBOX", "/private/ml=line1\ttab\r\nline2\r\n /shared/comment=shared c")
	check("Renamed", "/private/comment=other")

	if err := ms.SetMetadata(bg, "Renamed", []storage.MetadataEntry{{Name: "/shared/a/b", Value: []byte("x\x01y")}}); err != nil {
		t.Fatal(err)
	}
	if err := ms.SetMetadata(bg, "", []storage.MetadataEntry{{Name: "/private/comment"}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "dovecot-attributes"))
	if err != nil {
		t.Fatal(err)
	}
	want := "priv/879e07052b54026b0933000083ecc375/vendor/vendor.dovecot/pvt/server/vendor/foo/bar\nx\n" +
		"shared/879e07052b54026b0933000083ecc375/vendor/vendor.dovecot/pvt/server/vendor/foo/bar\ny\n" +
		"priv/879e07052b54026b0933000083ecc375/ml\nline1\x01ttab\x01r\x01nline2\x01r\x01n\n" +
		"shared/879e07052b54026b0933000083ecc375/comment\nshared c\n" +
		"priv/c8c59c161254026b4e24000083ecc375/comment\nother\n" +
		"shared/c8c59c161254026b4e24000083ecc375/a/b\nx\x011y\n"
	if string(data) != want {
		t.Errorf("dovecot-attributes after changes:\n%q\nwant\n%q", data, want)
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}
