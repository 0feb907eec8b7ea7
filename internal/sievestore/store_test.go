package sievestore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"roost/internal/sieve"
)

func newStore(t *testing.T, plugin map[string]string) *Store {
	t.Helper()
	home := t.TempDir()
	cfg, err := ParseConfig(plugin, home)
	if err != nil {
		t.Fatal(err)
	}
	return Open(cfg)
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		plugin map[string]string
		dir    string
		active string
	}{
		{"default", nil, "/h/sieve", "/h/.dovecot.sieve"},
		{"new form", map[string]string{"sieve": "file:~/scripts;active=~/.active.sieve"}, "/h/scripts", "/h/.active.sieve"},
		{"old form", map[string]string{"sieve": "~/.dovecot.sieve", "sieve_dir": "~/sieve"}, "/h/sieve", "/h/.dovecot.sieve"},
		{"old form without dir", map[string]string{"sieve": "/x/s.sieve"}, "/h/sieve", "/x/s.sieve"},
	} {
		c, err := ParseConfig(tc.plugin, "/h")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Dir != tc.dir || c.Active != tc.active {
			t.Errorf("%s: dir %q active %q, want %q %q", tc.name, c.Dir, c.Active, tc.dir, tc.active)
		}
	}
	c, err := ParseConfig(map[string]string{"sieve_global_path": "/g/default.sieve", "sieve_before": "/b1",
		"sieve_before2": "file:/b2", "sieve_before4": "/skipped", "sieve_after": "/a", "sieve_quota_max_storage": "1M",
		"sieve_quota_max_scripts": "3", "sieve_max_script_size": "100k", "sieve_global_dir": "/g/"}, "/h")
	if err != nil {
		t.Fatal(err)
	}
	if c.Default != "/g/default.sieve" || len(c.Before) != 2 || c.Before[1] != "/b2" || len(c.After) != 1 ||
		c.MaxStorage != 1<<20 || c.MaxScripts != 3 || c.MaxScriptSize != 100<<10 || c.GlobalDir != "/g/" {
		t.Errorf("config %+v", c)
	}
	if _, err := ParseConfig(map[string]string{"sieve_quota_max_scripts": "x"}, "/h"); err == nil {
		t.Error("bad number accepted")
	}
}

func TestStoreLifecycle(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	if err := s.Put("one", []byte("keep;\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put("two", []byte("discard;\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetActive("one"); err != nil {
		t.Fatal(err)
	}
	link, err := os.Readlink(filepath.Join(s.cfg.Home, ".dovecot.sieve"))
	if err != nil || link != "sieve/one.sieve" {
		t.Fatalf("link %q %v, want sieve/one.sieve", link, err)
	}
	list, _ := s.List()
	if len(list) != 2 || !list[0].Active || list[1].Active {
		t.Fatalf("list %+v", list)
	}
	if KindOf(s.Delete("one")) != KindActive {
		t.Error("deleting the active script was allowed")
	}
	if KindOf(s.Rename("one", "two")) != KindExists {
		t.Error("rename over an existing script was allowed")
	}
	if err := s.Rename("one", "three"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Active(); a != "three" {
		t.Errorf("active after rename = %q", a)
	}
	if KindOf(s.Delete("one")) != KindNotFound {
		t.Error("deleted a missing script")
	}
	if err := s.SetActive(""); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Active(); a != "" {
		t.Errorf("active after deactivate = %q", a)
	}
	if err := s.Delete("three"); err != nil {
		t.Fatal(err)
	}
	if KindOf(s.Put("a/b", nil)) != KindBadName || KindOf(s.Put("a\x01", nil)) != KindBadName {
		t.Error("bad names accepted")
	}
	if b, err := s.Get("two"); err != nil || string(b) != "discard;\n" {
		t.Errorf("get = %q %v", b, err)
	}
}

func TestQuota(t *testing.T) {
	t.Parallel()
	s := newStore(t, map[string]string{"sieve_quota_max_scripts": "2", "sieve_quota_max_storage": "20", "sieve_max_script_size": "15"})
	if KindOf(s.Put("big", make([]byte, 16))) != KindQuotaMaxSize {
		t.Error("MAXSIZE not enforced")
	}
	must(t, s.Put("a", make([]byte, 10)))
	must(t, s.Put("b", make([]byte, 5)))
	if KindOf(s.CheckQuota("c", 1)) != KindQuotaMaxScript {
		t.Error("MAXSCRIPTS not enforced")
	}
	if KindOf(s.CheckQuota("b", 11)) != KindQuotaStorage {
		t.Error("MAXSTORAGE not enforced")
	}
	must(t, s.CheckQuota("b", 10)) // replacing b does not count it twice
}

func TestPlainActiveFileKept(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	must(t, os.WriteFile(s.cfg.Active, []byte("keep;\n"), 0o600))
	if p, _ := s.ActivePath(); p != s.cfg.Active {
		t.Errorf("active path %q", p)
	}
	must(t, s.Put("new", []byte("stop;\n")))
	must(t, s.SetActive("new"))
	if b, err := s.Get("dovecot.orig"); err != nil || string(b) != "keep;\n" {
		t.Errorf("dovecot.orig = %q %v", b, err)
	}
}

func TestTracker(t *testing.T) {
	t.Parallel()
	tr := NewTracker(t.TempDir())
	ctx := context.Background()
	now := time.Now()
	if seen, _ := tr.Seen(ctx, "x", now); seen {
		t.Fatal("seen before mark")
	}
	must(t, tr.Mark(ctx, "x", now.Add(time.Hour)))
	if seen, _ := tr.Seen(ctx, "x", now); !seen {
		t.Error("not seen after mark")
	}
	if seen, _ := tr.Seen(ctx, "x", now.Add(2*time.Hour)); seen {
		t.Error("seen after expiry")
	}
}

func TestCacheRecompilesEdits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "s.sieve")
	must(t, os.WriteFile(path, []byte("keep;\n"), 0o600))
	c := NewCache()
	p1, err := c.Compile(context.Background(), path, false, nil)
	must(t, err)
	p2, _ := c.Compile(context.Background(), path, false, nil)
	if p1.Program != p2.Program {
		t.Error("not cached")
	}
	must(t, os.WriteFile(path, []byte("discard;\n\n"), 0o600))
	p3, err := c.Compile(context.Background(), path, false, nil)
	must(t, err)
	if p3.Program == p1.Program {
		t.Error("edit not picked up")
	}
	must(t, os.WriteFile(path, []byte("fileinto \"x\";\n"), 0o600))
	_, err = c.Compile(context.Background(), path, false, nil)
	if _, ok := err.(*sieve.CompileError); !ok {
		t.Errorf("compile error = %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
