package server

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"roost/internal/settings"
)

// ConfigError is a configuration that cannot be loaded or used; its text
// names file:line where one is known. Commands exit with EX_CONFIG for it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// load reads and validates the configuration, and writes one warning per
// setting that roost accepts but does not implement yet.
func load(path string, warn io.Writer, opts settings.Options) (*settings.Snapshot, error) {
	snap, err := settings.LoadFile(path, opts)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	if warn != nil {
		for _, w := range snap.Warnings() {
			fmt.Fprintf(warn, "Warning: %s\n", w)
		}
	}
	return snap, nil
}

// Check loads the configuration at path and checks that roost can run it,
// printing warnings to warn.
func Check(path string, warn io.Writer) error {
	snap, err := load(path, warn, settings.Options{})
	if err != nil {
		return err
	}
	_, err = newPlan(snap)
	return err
}

// PIDPath returns where the running server of this configuration keeps its
// process id (base_dir/master.pid, as Dovecot).
func PIDPath(cfgPath string) (string, error) {
	snap, err := load(cfgPath, nil, settings.Options{SkipValueFiles: true})
	if err != nil {
		return "", err
	}
	return filepath.Join(snap.Global().BaseDir, "master.pid"), nil
}

// ConfigMode selects doveconf's output form.
type ConfigMode int

// doveconf output forms.
const (
	ConfigAll        ConfigMode = iota // doveconf -a (and doveconf with no names)
	ConfigNonDefault                   // doveconf -n
)

// ConfigRequest is one `roost config` invocation.
type ConfigRequest struct {
	Path        string
	Mode        ConfigMode
	Names       []string // settings to print; empty prints the whole configuration
	HideNames   bool     // -h: values only
	ShowSecrets bool     // -P
}

// PrintConfig writes the configuration as doveconf does.
func PrintConfig(stdout, stderr io.Writer, req ConfigRequest) error {
	snap, err := load(req.Path, stderr, settings.Options{SkipValueFiles: !req.ShowSecrets})
	if err != nil {
		return err
	}
	if len(req.Names) == 0 {
		if req.Mode == ConfigNonDefault {
			return settings.WriteNonDefault(stdout, snap)
		}
		return settings.WriteAll(stdout, snap)
	}
	if !req.HideNames {
		return settings.WriteSettings(stdout, snap, req.Names...)
	}
	var b strings.Builder
	if err := settings.WriteSettings(&b, snap, req.Names...); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if _, v, ok := strings.Cut(line, " = "); ok {
			line = v
		}
		io.WriteString(stdout, line)
	}
	return nil
}
