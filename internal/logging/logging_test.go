package logging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFileLogShape(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "log")
	fixed := time.Date(2026, 11, 21, 9, 5, 7, 0, time.UTC)
	l, err := New(Options{Path: path, Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	l.With("imap-login").Infof("Login: user=<%s>, method=PLAIN", "alice")
	l.With("imap(alice)").Warnf("multi\nline")
	l.Debugf("hidden")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "Nov 21 09:05:07 imap-login: Info: Login: user=<alice>, method=PLAIN\n" +
		"Nov 21 09:05:07 imap(alice): Warning: multi\\nline\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSeparateInfoAndDebugPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mainPath, infoPath := filepath.Join(dir, "err"), filepath.Join(dir, "info")
	l, err := New(Options{Path: mainPath, InfoPath: infoPath, Debug: true, Timestamp: "%Y "})
	if err != nil {
		t.Fatal(err)
	}
	l.Infof("i")
	l.Debugf("d")
	l.Errorf("e")
	l.Close()
	info, _ := os.ReadFile(infoPath)
	errs, _ := os.ReadFile(mainPath)
	if !strings.Contains(string(info), "Info: i") || !strings.Contains(string(info), "Debug: d") {
		t.Errorf("info log = %q", info)
	}
	if strings.Contains(string(errs), "Info:") || !strings.Contains(string(errs), "Error: e") {
		t.Errorf("main log = %q", errs)
	}
}

func TestUnknownFacility(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{Path: "syslog", SyslogFacility: "nope"}); err == nil {
		t.Fatal("want error for unknown facility")
	}
}

func TestSlogAdapter(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	l := NewWriter(&b, false)
	s := l.With("auth").Slog()
	s.Info("passwd-file: user not found", "user", "bob")
	s.Debug("hidden")
	s.Error("boom")
	want := "auth: Info: passwd-file: user not found, user=bob\nauth: Error: boom\n"
	if b.String() != want {
		t.Errorf("got %q want %q", b.String(), want)
	}
}
