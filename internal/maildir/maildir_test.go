package maildir_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"roost/internal/maildir"
	"roost/internal/storage"
	"roost/internal/storagetest"
	"roost/internal/vfs"
)

// storeConfig is a user configuration on a fresh home directory.
func storeConfig(home, loc, sep, prefix string) storage.UserConfig {
	return storage.UserConfig{
		Username: "alice",
		Home:     home,
		UID:      -1, GID: -1,
		Namespaces: []storage.NamespaceConfig{{
			Name: "inbox", Type: "private", Prefix: prefix, Separator: sep,
			Location: loc, Inbox: true, List: "yes", Subscriptions: true,
		}},
	}
}

func runSuite(t *testing.T, loc, sep, prefix string) {
	var d = maildir.New(maildir.Options{})
	open := func(t *testing.T, cfg storage.UserConfig) storage.User {
		u, err := d.OpenUser(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	var mu sync.Mutex
	cfgs := map[storage.User]storage.UserConfig{}
	storagetest.RunConfig(t, storagetest.Config{
		NewUser: func(t *testing.T) storage.User {
			cfg := storeConfig(t.TempDir(), loc, sep, prefix)
			u := open(t, cfg)
			mu.Lock()
			cfgs[u] = cfg
			mu.Unlock()
			return u
		},
		Reopen: func(t *testing.T, u storage.User) storage.User {
			mu.Lock()
			cfg := cfgs[u]
			mu.Unlock()
			u.Close()
			// a new Driver: nothing shared in memory, as in another process
			nu, err := maildir.New(maildir.Options{}).OpenUser(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			cfgs[nu] = cfg
			mu.Unlock()
			return nu
		},
	})
}

func TestMaildirPlusPlus(t *testing.T) {
	runSuite(t, "maildir:~/Maildir", ".", "")
}

func TestMaildirPlusPlusSlashSep(t *testing.T) {
	runSuite(t, "maildir:~/Maildir", "/", "")
}

func TestLayoutFS(t *testing.T) {
	runSuite(t, "maildir:~/Maildir:LAYOUT=fs", "/", "")
}

func TestPrefixedNamespace(t *testing.T) {
	runSuite(t, "maildir:~/Maildir:CONTROL=~/control:INDEX=~/index", ".", "INBOX.")
}

var _ = filepath.Join
var _ vfs.FS = vfs.OS{}

func TestFaults(t *testing.T) {
	storagetest.RunFaults(t, func(t *testing.T, fsys vfs.FS) storage.User {
		d := maildir.New(maildir.Options{FS: fsys})
		u, err := d.OpenUser(context.Background(), storeConfig(t.TempDir(), "maildir:~/Maildir", ".", ""))
		if err != nil {
			t.Fatal(err)
		}
		return u
	})
}
