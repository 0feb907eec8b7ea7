package sievestore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxLogSize is where the user's error log is rotated to NAME.log.0, as
// Pigeonhole does at 10k.
const maxLogSize = 10 << 10

// LogPath is the user's Sieve error log: the active script path plus
// ".log" (~/.dovecot.sieve.log), or sieve.log in the home.
func (s *Store) LogPath() string {
	if s.cfg.Active != "" {
		return s.cfg.Active + ".log"
	}
	if s.cfg.Home != "" {
		return filepath.Join(s.cfg.Home, ".dovecot.sieve.log")
	}
	return ""
}

// LogErrors appends lines to the user's error log with Pigeonhole's
// timestamp prefix ("sieve: info: started log at ..." on a new file).
func (s *Store) LogErrors(now time.Time, lines []string) error {
	path := s.LogPath()
	if path == "" || len(lines) == 0 {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.Size() > maxLogSize {
		os.Rename(path, path+".0")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open sieve log: %w", err)
	}
	defer f.Close()
	var b strings.Builder
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		fmt.Fprintf(&b, "sieve: info: started log at %s.\n", now.Format("Jan 02 15:04:05"))
	}
	for _, l := range lines {
		b.WriteString(strings.TrimRight(l, "\n") + "\n")
	}
	if _, err := f.WriteString(b.String()); err != nil {
		return fmt.Errorf("write sieve log: %w", err)
	}
	return nil
}
