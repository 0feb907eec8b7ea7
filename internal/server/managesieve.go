package server

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"roost/internal/login"
	"roost/internal/managesieve"
	"roost/internal/sieve"
	"roost/internal/sievestore"
)

// buildManageSieve makes the ManageSieve server of the managesieve-login
// service's listeners (`protocols = ... sieve`).
func buildManageSieve(st *stack, implicitTLS bool) (connServer, error) {
	s := st.plan.settingsFor("sieve")
	ls, err := st.loginService("sieve")
	if err != nil {
		return nil, err
	}
	cfg, err := sieve.ParseConfig(s.Plugin)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("managesieve: plugin: %w", err)}
	}
	ms := s.ManageSieve
	maxErrors, _ := strconv.Atoi(ms["managesieve_max_compile_errors"])
	srv, err := managesieve.New(managesieve.Options{
		Auth: ls,
		OpenStore: func(_ context.Context, sess *login.Session) (managesieve.Store, error) {
			return sieveStore(s, "sieve", sess.User, sess.UserInfo.Fields)
		},
		Compile: func(ctx context.Context, _ *login.Session, name string, src []byte) error {
			_, err := sieve.CompileContext(ctx, name, src, sieve.Options{Config: cfg, Extensions: sievestore.Extensions(cfg, false)})
			return err
		},
		TLS:              st.tls,
		ImplicitTLS:      implicitTLS,
		Logger:           st.log,
		Greeting:         s.Login.Greeting,
		Implementation:   ms["managesieve_implementation_string"],
		SieveCapability:  ms["managesieve_sieve_capability"],
		NotifyCapability: ms["managesieve_notify_capability"],
		MaxCompileErrors: maxErrors,
		MaxRedirects:     cfg.MaxRedirects,
		MaxLineLength:    int(parseSizeOr(ms["managesieve_max_line_length"], managesieve.DefaultMaxLineLength)),
		LogoutFormat:     ms["managesieve_logout_format"],
	})
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("managesieve: %w", err)}
	}
	return srv, nil
}

// parseSizeOr reads "64 k" style sizes.
func parseSizeOr(v string, def int) int64 {
	v = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(v), " ", ""))
	mult := int64(1)
	switch {
	case strings.HasSuffix(v, "k"):
		mult, v = 1<<10, strings.TrimSuffix(v, "k")
	case strings.HasSuffix(v, "m"):
		mult, v = 1<<20, strings.TrimSuffix(v, "m")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return int64(def)
	}
	return n * mult
}
