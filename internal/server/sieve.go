package server

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"roost/internal/auth"
	"roost/internal/delivery"
	"roost/internal/settings"
	"roost/internal/sieve"
	"roost/internal/sievestore"
	"roost/internal/varexpand"
)

// sieveFilter is the delivery Filter of proto ("lmtp" or "lda"): Sieve
// when `mail_plugins` of that protocol has "sieve", else nil (keep).
func sieveFilter(st *stack, proto string, s *settings.Settings) (delivery.Filter, error) {
	if !slices.Contains(s.Mail.Plugins, "sieve") {
		return nil, nil
	}
	cfg, err := sieve.ParseConfig(s.Plugin)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("%s: plugin: %w", proto, err)}
	}
	// vnd.dovecot.pipe/filter/execute exist only when sieve_plugins loads
	// sieve_extprograms, as in Pigeonhole.
	plugins := strings.Fields(s.Plugin["sieve_plugins"])
	cfg.Extensions = pluginExtensions(cfg.Extensions, plugins)
	cfg.GlobalExtensions = pluginExtensions(cfg.GlobalExtensions, plugins)
	f, err := delivery.NewSieve(delivery.SieveOptions{
		Storage: func(_ context.Context, a delivery.Account) (*sievestore.Store, error) {
			return sieveStore(s, proto, a.User, a.Fields)
		},
		Config:     cfg,
		Cache:      sievestore.NewCache(),
		Mailer:     delivery.Sendmail{Path: s.LDA.SendmailPath, SubmissionHost: s.LDA.SubmissionHost, Hostname: hostname(s)},
		Hostname:   hostname(s),
		Postmaster: func(user string) string { return postmasterAddress(s, user) },
		Logger:     st.log.With(proto),
	})
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	return f, nil
}

// sieveStore opens a user's Sieve script storage: the plugin settings with
// %-variables expanded and "~" the user's home.
func sieveStore(s *settings.Settings, proto, user string, fields auth.Fields) (*sievestore.Store, error) {
	vars := userVars(proto, user, fields)
	home := fields["home"]
	if home == "" && s.Mail.Home != "" {
		h, err := varexpand.Expand(s.Mail.Home, vars)
		if err != nil {
			return nil, fmt.Errorf("mail_home: %w", err)
		}
		home = h
	}
	vars["home"] = home
	plugin := map[string]string{}
	for k, v := range s.Plugin {
		if !strings.HasPrefix(k, "sieve") && k != "global_script_path" {
			continue
		}
		x, err := varexpand.Expand(v, vars)
		if err != nil {
			return nil, fmt.Errorf("plugin %s: %w", k, err)
		}
		plugin[k] = x
	}
	cfg, err := sievestore.ParseConfig(plugin, home)
	if err != nil {
		return nil, err
	}
	return sievestore.Open(cfg), nil
}

// UserSieveStore loads the configuration at path and opens the Sieve
// script storage of user as the daemon would, for `roost sieve ...`
// (doveadm sieve). It also returns the Pigeonhole configuration, to check
// scripts before they are stored. A user no userdb knows is
// delivery.ErrUnknownUser.
func UserSieveStore(ctx context.Context, path string, warn io.Writer, user string) (*sievestore.Store, *sieve.Config, error) {
	a, s, err := AuthChain(path, warn, nil)
	if err != nil {
		return nil, nil, err
	}
	res := a.LookupUser(ctx, &auth.Request{Service: "doveadm", User: user})
	switch res.Status {
	case auth.OK:
	case auth.UserUnknown:
		return nil, nil, delivery.ErrUnknownUser
	default:
		return nil, nil, fmt.Errorf("userdb lookup for %s failed: %v", user, res.Err)
	}
	cfg, err := sieve.ParseConfig(s.Plugin)
	if err != nil {
		return nil, nil, &ConfigError{Err: fmt.Errorf("plugin: %w", err)}
	}
	st, err := sieveStore(s, "doveadm", res.User, res.Fields)
	return st, cfg, err
}
