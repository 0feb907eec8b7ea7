package server

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"roost/internal/auth"
	"roost/internal/settings"
)

// AuthChain loads the configuration at path and builds its passdb and
// userdb chains as the daemon does, for `roost auth` and `roost user`.
// Warnings go to warn; the chain logs to log (nil discards). There is no
// failure delay: the commands answer at once.
func AuthChain(path string, warn io.Writer, log *slog.Logger) (*auth.Auth, *settings.Settings, error) {
	snap, err := load(path, warn, settings.Options{})
	if err != nil {
		return nil, nil, err
	}
	s := snap.For(settings.Filter{Protocol: "doveadm"})
	o, err := authOptions(s, log)
	if err != nil {
		return nil, nil, err
	}
	o.FailureDelay = -1
	a, err := auth.New(o)
	if err != nil {
		return nil, nil, &ConfigError{Err: err}
	}
	return a, s, nil
}

// AuthMasterPath returns the auth-master socket of the running server of
// this configuration: the auth service's unix_listener named auth-master
// (or ending in "-master"), under base_dir when relative, as doveadm
// finds it.
func AuthMasterPath(cfgPath string) (string, error) {
	snap, err := load(cfgPath, nil, settings.Options{SkipValueFiles: true})
	if err != nil {
		return "", err
	}
	g := snap.Global()
	path := "auth-master"
	for _, svc := range g.Services {
		if svc.Name != "auth" {
			continue
		}
		for _, l := range svc.UnixListeners {
			if filepath.Base(l.Path) == "auth-master" || strings.HasSuffix(l.Path, "-master") {
				path = l.Path
				break
			}
		}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(g.BaseDir, path)
	}
	return path, nil
}
