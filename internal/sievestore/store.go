package sievestore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Ext is the file name extension of a stored script.
const Ext = ".sieve"

// origName is what a plain active script file becomes on activation.
const origName = "dovecot.orig"

// Store is one user's personal script storage. Its methods are safe for
// concurrent use by several sessions of the user: every change is a
// rename on the file system.
type Store struct {
	cfg Config
}

// Script is one stored script.
type Script struct {
	Name   string
	Active bool
	Size   int64
}

// Open returns the user's storage. Nothing is created until a script is
// written.
func Open(cfg Config) *Store { return &Store{cfg: cfg} }

// Config returns the configuration the store was opened with.
func (s *Store) Config() Config { return s.cfg }

// ValidName reports whether name may name a script: RFC 5804 section 1.7
// (no control characters, no line separators), no "/" and not empty.
func ValidName(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxNameLength {
		return false
	}
	for _, r := range name {
		if r == '/' || unicode.IsControl(r) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

func (s *Store) check(name string) error {
	if s.cfg.Dir == "" {
		return &Error{KindNoStorage, "No personal Sieve storage is configured."}
	}
	if !ValidName(name) {
		return errBadName(name)
	}
	return nil
}

func (s *Store) file(name string) string { return filepath.Join(s.cfg.Dir, name+Ext) }

// List returns the scripts, sorted by name.
func (s *Store) List() ([]Script, error) {
	if s.cfg.Dir == "" {
		return nil, nil
	}
	ents, err := os.ReadDir(s.cfg.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list scripts: %w", err)
	}
	active, err := s.Active()
	if err != nil {
		return nil, err
	}
	var out []Script
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), Ext)
		if !ok || !e.Type().IsRegular() || !ValidName(name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		out = append(out, Script{Name: name, Active: name == active, Size: info.Size()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns a script's text.
func (s *Store) Get(name string) ([]byte, error) {
	if err := s.check(name); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.file(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read script %q: %w", name, err)
	}
	return b, nil
}

// Exists reports whether a script is stored.
func (s *Store) Exists(name string) bool {
	if s.check(name) != nil {
		return false
	}
	st, err := os.Stat(s.file(name))
	return err == nil && st.Mode().IsRegular()
}

// CheckQuota tells whether a script of size bytes may be stored as name
// (replacing one of that name does not count twice): HAVESPACE.
func (s *Store) CheckQuota(name string, size int64) error {
	if err := s.check(name); err != nil {
		return err
	}
	if m := s.cfg.MaxScriptSize; m > 0 && size > m {
		return &Error{KindQuotaMaxSize, fmt.Sprintf("Script is too large (max %d bytes).", m)}
	}
	if s.cfg.MaxScripts == 0 && s.cfg.MaxStorage == 0 {
		return nil
	}
	list, err := s.List()
	if err != nil {
		return err
	}
	count, total, replaces := 0, int64(0), false
	for _, sc := range list {
		if sc.Name == name {
			replaces = true
			continue
		}
		count++
		total += sc.Size
	}
	if m := s.cfg.MaxScripts; m > 0 && !replaces && count+1 > m {
		return &Error{KindQuotaMaxScript, fmt.Sprintf("Script count quota exceeded (max %d scripts).", m)}
	}
	if m := s.cfg.MaxStorage; m > 0 && total+size > m {
		return &Error{KindQuotaStorage, fmt.Sprintf("Script storage quota exceeded (max %d bytes).", m)}
	}
	return nil
}

// Put stores a script (replacing one of the same name) after the quota
// check. The caller has checked that it compiles.
func (s *Store) Put(name string, data []byte) error {
	if err := s.CheckQuota(name, int64(len(data))); err != nil {
		return err
	}
	return s.write(name, data)
}

// write puts data into DIR/tmp, syncs it and renames it into place.
func (s *Store) write(name string, data []byte) error {
	tmpDir := filepath.Join(s.cfg.Dir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return fmt.Errorf("create script directory: %w", err)
	}
	tmp := filepath.Join(tmpDir, uniqueName(name))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create script: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, s.file(name))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write script %q: %w", name, err)
	}
	return nil
}

func uniqueName(name string) string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s.%d.%s", hex.EncodeToString(b[:]), os.Getpid(), hex.EncodeToString([]byte(name))[:min(16, 2*len(name))])
}

// Active returns the name of the active script, "" when none is active
// or the active path is not a link to a script of this storage.
func (s *Store) Active() (string, error) {
	if s.cfg.Active == "" || s.cfg.Dir == "" {
		return "", nil
	}
	target, err := os.Readlink(s.cfg.Active)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || isNotLink(err) {
			return "", nil
		}
		return "", fmt.Errorf("read active script link: %w", err)
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(s.cfg.Active), target)
	}
	dir, base := filepath.Split(filepath.Clean(target))
	name, ok := strings.CutSuffix(base, Ext)
	if !ok || !sameDir(dir, s.cfg.Dir) {
		return "", nil
	}
	return name, nil
}

func isNotLink(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "invalid argument")
}

func sameDir(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	if a == b {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// SetActive makes name the active script; "" deactivates.
func (s *Store) SetActive(name string) error {
	if name == "" {
		return s.deactivate()
	}
	if err := s.check(name); err != nil {
		return err
	}
	if s.cfg.Active == "" {
		return &Error{KindNoStorage, "No active script location is configured."}
	}
	if !s.Exists(name) {
		return errNotFound(name)
	}
	if err := s.keepPlainActive(); err != nil {
		return err
	}
	target := s.file(name)
	if rel, err := filepath.Rel(filepath.Dir(s.cfg.Active), target); err == nil && !strings.HasPrefix(rel, "..") {
		target = rel
	}
	tmp := filepath.Join(filepath.Dir(s.cfg.Active), "."+filepath.Base(s.cfg.Active)+"-new-"+uniqueName(name))
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("create active script link: %w", err)
	}
	if err := os.Rename(tmp, s.cfg.Active); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("activate script %q: %w", name, err)
	}
	return nil
}

// keepPlainActive moves a regular file at the active path into the
// storage as dovecot.orig, so activation never destroys a script.
func (s *Store) keepPlainActive() error {
	st, err := os.Lstat(s.cfg.Active)
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	data, err := os.ReadFile(s.cfg.Active)
	if err != nil {
		return fmt.Errorf("read active script file: %w", err)
	}
	if err := s.write(origName, data); err != nil {
		return err
	}
	return nil
}

func (s *Store) deactivate() error {
	if s.cfg.Active == "" {
		return nil
	}
	st, err := os.Lstat(s.cfg.Active)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deactivate: %w", err)
	}
	if st.Mode()&fs.ModeSymlink == 0 {
		// A plain script file is not ours to delete: keep it in storage.
		if err := s.keepPlainActive(); err != nil {
			return err
		}
	}
	if err := os.Remove(s.cfg.Active); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deactivate: %w", err)
	}
	return nil
}

// Delete removes a script; the active one cannot be deleted.
func (s *Store) Delete(name string) error {
	if err := s.check(name); err != nil {
		return err
	}
	if !s.Exists(name) {
		return errNotFound(name)
	}
	if a, _ := s.Active(); a == name {
		return &Error{KindActive, "Cannot delete the active Sieve script."}
	}
	if err := os.Remove(s.file(name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errNotFound(name)
		}
		return fmt.Errorf("delete script %q: %w", name, err)
	}
	return nil
}

// Rename renames a script; renaming the active one keeps it active.
func (s *Store) Rename(from, to string) error {
	if err := s.check(from); err != nil {
		return err
	}
	if err := s.check(to); err != nil {
		return err
	}
	if !s.Exists(from) {
		return errNotFound(from)
	}
	if s.Exists(to) {
		return &Error{KindExists, "A sieve script with that name already exists."}
	}
	active, _ := s.Active()
	if err := os.Link(s.file(from), s.file(to)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return &Error{KindExists, "A sieve script with that name already exists."}
		}
		return fmt.Errorf("rename script %q: %w", from, err)
	}
	if active == from {
		if err := s.SetActive(to); err != nil {
			os.Remove(s.file(to))
			return err
		}
	}
	if err := os.Remove(s.file(from)); err != nil {
		return fmt.Errorf("rename script %q: %w", from, err)
	}
	return nil
}

// ActivePath returns the file delivery runs as the user's script: the
// active script (through the link, or the plain file), else "".
func (s *Store) ActivePath() (string, error) {
	if s.cfg.Active == "" {
		return "", nil
	}
	st, err := os.Stat(s.cfg.Active)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("active script: %w", err)
	case st.IsDir():
		return "", nil
	}
	if target, err := filepath.EvalSymlinks(s.cfg.Active); err == nil {
		return target, nil // the script's own name in messages, its own mtime in the cache
	}
	return s.cfg.Active, nil
}
