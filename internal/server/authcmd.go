package server

import (
	"io"
	"log/slog"

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
