package sievestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"roost/internal/sieve"
)

// maxCached bounds the compiled programs a Cache keeps.
const maxCached = 4096

// Cache compiles scripts once per content: programs are kept in memory
// keyed by path, size, modification time and compile options, so an edited
// script takes effect at the next delivery without a restart. It is safe
// for concurrent use.
type Cache struct {
	mu sync.Mutex // guards m
	m  map[cacheKey]*sieve.Program
}

type cacheKey struct {
	path   string
	size   int64
	mtime  time.Time
	global bool
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{m: map[cacheKey]*sieve.Program{}} }

// Compiled is one loaded script.
type Compiled struct {
	Path    string
	Name    string // for messages: the file name without .sieve
	Program *sieve.Program
}

// Compile loads and compiles the script at path; global scripts may use
// sieve_global_extensions. A compile error is a *sieve.CompileError.
func (c *Cache) Compile(ctx context.Context, path string, global bool, cfg *sieve.Config) (*Compiled, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("open script: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), Ext)
	key := cacheKey{path: path, size: st.Size(), mtime: st.ModTime(), global: global}
	c.mu.Lock()
	p := c.m[key]
	c.mu.Unlock()
	if p != nil {
		return &Compiled{Path: path, Name: name, Program: p}, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	opts := sieve.Options{Config: cfg, Extensions: Extensions(cfg, global)}
	p, err = sieve.CompileContext(ctx, name, src, opts)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.path == path || len(c.m) >= maxCached {
			delete(c.m, k)
		}
	}
	c.m[key] = p
	return &Compiled{Path: path, Name: name, Program: p}, nil
}

// Extensions is what a script may require: sieve_extensions, plus
// sieve_global_extensions for global scripts (nil: the defaults).
func Extensions(cfg *sieve.Config, global bool) []string {
	if cfg == nil || (len(cfg.Extensions) == 0 && (!global || len(cfg.GlobalExtensions) == 0)) {
		return nil
	}
	ext := cfg.Extensions
	if len(ext) == 0 {
		ext = sieve.Capabilities()
	}
	if global {
		ext = append(append([]string(nil), ext...), cfg.GlobalExtensions...)
	}
	return ext
}

// Expand turns sieve_before/sieve_after entries into script files: a file
// stays, a directory gives its *.sieve files in name order; missing
// entries are skipped.
func Expand(paths []string) []string {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			continue
		}
		var names []string
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), Ext) && !e.IsDir() {
				names = append(names, filepath.Join(p, e.Name()))
			}
		}
		sort.Strings(names)
		out = append(out, names...)
	}
	return out
}

// Load implements sieve.Scripts for include: "personal" scripts come from
// the storage directory, "global" ones from sieve_global_dir.
func (s *Store) Load(_ context.Context, location, name string) ([]byte, error) {
	dir := s.cfg.Dir
	if location == "global" {
		dir = s.cfg.GlobalDir
	}
	if dir == "" || !ValidName(name) {
		return nil, fmt.Errorf("load %s script %q: %w", location, name, sieve.ErrScriptNotFound)
	}
	b, err := os.ReadFile(filepath.Join(dir, name+Ext))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("load %s script %q: %w", location, name, sieve.ErrScriptNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load %s script %q: %w", location, name, err)
	}
	return b, nil
}
