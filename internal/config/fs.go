package config

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// FS is the filesystem the parser reads includes and <file values from.
// Paths are slash-separated and absolute or relative to the process's
// working directory, as written in the configuration.
type FS interface {
	ReadFile(name string) ([]byte, error)
	// Glob returns the names matching pattern (path.Match syntax), sorted.
	Glob(pattern string) ([]string, error)
}

// OS is the FS of the operating system.
type OS struct{}

// ReadFile reads the named file.
func (OS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// Glob returns the sorted names matching pattern.
func (OS) Glob(pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	sort.Strings(m)
	return m, err
}

// MapFS is an in-memory FS: file name to contents. Names are cleaned
// slash paths ("/etc/dovecot/dovecot.conf").
type MapFS map[string]string

// ReadFile returns the named file's contents.
func (m MapFS) ReadFile(name string) ([]byte, error) {
	s, ok := m[path.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

// Glob returns the sorted names in m matching pattern.
func (m MapFS) Glob(pattern string) ([]string, error) {
	pattern = path.Clean(pattern)
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, err
	}
	var out []string
	for name := range m {
		if ok, _ := path.Match(pattern, name); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// hasMeta reports whether p contains glob metacharacters.
func hasMeta(p string) bool {
	return strings.ContainsAny(p, `*?[\`)
}
