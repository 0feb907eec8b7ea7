package sievestore

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Pigeonhole's defaults.
const (
	// DefaultLocation is the `sieve` setting when none is given.
	DefaultLocation = "file:~/sieve;active=~/.dovecot.sieve"
	// DefaultMaxScriptSize is sieve_max_script_size's default (1M).
	DefaultMaxScriptSize = 1 << 20
	// MaxNameLength is the longest script name in characters (RFC 5804
	// section 1.7 lets a server choose; Pigeonhole allows 255).
	MaxNameLength = 255
	// maxNumbered bounds the numbered sieve_before2 ... variants looked at.
	maxNumbered = 100
)

// Config is where one user's scripts are and what limits apply, resolved
// from the plugin { } settings (home and %-variables already expanded).
type Config struct {
	// Home is the user's home; "~/" in settings is relative to it.
	Home string
	// Dir is the personal script directory ("" when the user has none:
	// ManageSieve then has nothing to manage).
	Dir string
	// Active is the path of the active script: the link into Dir, or a
	// plain script file (the old `sieve = ~/.dovecot.sieve` form).
	Active string
	// Default is sieve_default (or the old sieve_global_path /
	// global_script_path): run when the user has no active script.
	Default string
	// GlobalDir is sieve_global_dir: where include :global finds scripts.
	GlobalDir string
	// Before and After are sieve_before, sieve_before2, ... and
	// sieve_after, ...: files or directories of *.sieve files.
	Before, After []string
	// MaxScripts is sieve_quota_max_scripts (0: no limit).
	MaxScripts int
	// MaxStorage is sieve_quota_max_storage in bytes (0: no limit).
	MaxStorage int64
	// MaxScriptSize is sieve_max_script_size in bytes (0: no limit).
	MaxScriptSize int64
}

// ParseConfig resolves the plugin settings for a user whose home is home.
// Values are taken as they are (the caller expands %-variables); "~" and
// "~/" are the home.
func ParseConfig(plugin map[string]string, home string) (Config, error) {
	c := Config{Home: home, MaxScriptSize: DefaultMaxScriptSize}
	loc, ok := plugin["sieve"]
	if !ok || strings.TrimSpace(loc) == "" {
		loc = DefaultLocation
	}
	if err := c.parseLocation(loc, plugin["sieve_dir"]); err != nil {
		return c, err
	}
	c.Default = c.path(stripFile(first(plugin, "sieve_default", "sieve_global_path", "global_script_path")))
	c.GlobalDir = c.path(stripFile(first(plugin, "sieve_global_dir", "sieve_global")))
	c.Before = c.numbered(plugin, "sieve_before")
	c.After = c.numbered(plugin, "sieve_after")
	var err error
	if c.MaxScripts, err = intSetting(plugin, "sieve_quota_max_scripts"); err != nil {
		return c, err
	}
	n, err := sizeSetting(plugin, "sieve_quota_max_storage", 0)
	if err != nil {
		return c, err
	}
	c.MaxStorage = n
	if c.MaxScriptSize, err = sizeSetting(plugin, "sieve_max_script_size", DefaultMaxScriptSize); err != nil {
		return c, err
	}
	return c, nil
}

// parseLocation reads `sieve`: "file:DIR;active=LINK" (DIR the storage,
// LINK the active script), or the old form, the active script's path,
// with the storage in sieve_dir.
func (c *Config) parseLocation(loc, sieveDir string) error {
	loc = strings.TrimSpace(loc)
	isNew := strings.HasPrefix(loc, "file:") || strings.Contains(loc, ";")
	parts := strings.Split(strings.TrimPrefix(loc, "file:"), ";")
	if !isNew {
		c.Active = c.path(loc)
		if sieveDir == "" {
			sieveDir = "~/sieve"
		}
		c.Dir = c.path(stripFile(sieveDir))
		return nil
	}
	c.Dir = c.path(parts[0])
	for _, opt := range parts[1:] {
		k, v, _ := strings.Cut(opt, "=")
		switch strings.TrimSpace(k) {
		case "active":
			c.Active = c.path(v)
		case "name", "bindir", "":
			// bindir: compiled scripts are cached in memory instead.
		default:
			return fmt.Errorf("sieve location %q: unknown option %q", loc, k)
		}
	}
	return nil
}

// path resolves "~" against the home; "" stays "".
func (c *Config) path(p string) string {
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return ""
	case p == "~":
		return c.Home
	case strings.HasPrefix(p, "~/"):
		return filepath.Join(c.Home, p[2:])
	}
	return p
}

// numbered returns name, name2, name3, ... up to the first one missing.
func (c *Config) numbered(plugin map[string]string, name string) []string {
	var out []string
	for i := 1; i <= maxNumbered; i++ {
		key := name
		if i > 1 {
			key = name + strconv.Itoa(i)
		}
		v, ok := plugin[key]
		if !ok {
			break
		}
		if p := c.path(stripFile(v)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func first(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(m[k]); v != "" {
			return v
		}
	}
	return ""
}

// stripFile drops a "file:" driver prefix and any ";option" suffix.
func stripFile(v string) string {
	v, _, _ = strings.Cut(strings.TrimPrefix(strings.TrimSpace(v), "file:"), ";")
	return v
}

func intSetting(m map[string]string, k string) (int, error) {
	v := strings.TrimSpace(m[k])
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("setting %s: invalid number %q", k, v)
	}
	return n, nil
}

// sizeSetting parses a Dovecot size ("1M", "512k", "100 B").
func sizeSetting(m map[string]string, k string, def int64) (int64, error) {
	v := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(m[k]), " ", ""))
	if v == "" {
		return def, nil
	}
	v = strings.TrimSuffix(v, "B")
	mult := int64(1)
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			v = v[:n-1]
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("setting %s: invalid size %q", k, m[k])
	}
	return n * mult, nil
}
