package admin

import (
	"context"
	"errors"
	"fmt"

	"roost/internal/server"
)

// runConfig is doveconf: `-n` non-default settings, `-a` all settings
// (the default with no setting names), `SETTING...` selected settings,
// `-h` values without names, `-P` show secrets.
func runConfig(_ context.Context, env *Env, args []string) int {
	fs := newFlags(env, "config")
	cfgPath := fs.String("c", env.DefaultConfig, "configuration `file`")
	nonDefault := fs.Bool("n", false, "print only settings that differ from the defaults")
	all := fs.Bool("a", false, "print all settings")
	hide := fs.Bool("h", false, "print values without setting names")
	secrets := fs.Bool("P", false, "show passwords and keys")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	req := server.ConfigRequest{Path: *cfgPath, Names: fs.Args(), HideNames: *hide, ShowSecrets: *secrets}
	switch {
	case *nonDefault && *all:
		fmt.Fprintf(env.Stderr, "%s: -n and -a are exclusive\n", env.Prog)
		return exitUsage
	case *nonDefault:
		req.Mode = server.ConfigNonDefault
	default:
		req.Mode = server.ConfigAll
	}
	if err := server.PrintConfig(env.Stdout, env.Stderr, req); err != nil {
		fmt.Fprintf(env.Stderr, "%s: Fatal: %v\n", env.Prog, err)
		var ce *server.ConfigError
		if errors.As(err, &ce) {
			return exitConfig
		}
		return exitFailure
	}
	return exitOK
}
