package server

import (
	"fmt"
	"log/slog"
	"strings"

	"roost/internal/auth"
	"roost/internal/ldapdb"
	"roost/internal/oauth2db"
	"roost/internal/passwdfile"
	"roost/internal/settings"
	"roost/internal/sqldb"
	"roost/internal/staticdb"
)

// The passdb and userdb drivers roost has, by `driver =` name. Only the
// composition root knows the concrete drivers (DESIGN.md section 3).
func newPassdb(driver, args string, log *slog.Logger) (auth.Passdb, error) {
	switch driver {
	case "passwd-file":
		return passwdfile.NewPassdb(args, passwdfile.Options{Logger: log})
	case "static":
		return staticdb.NewPassdb(args)
	case "sql":
		db, err := sqldb.Open(args, sqldb.Options{})
		if err != nil {
			return nil, err
		}
		return sqldb.NewPassdb(db), nil
	case "ldap":
		db, err := ldapdb.Open(args, ldapdb.Options{})
		if err != nil {
			return nil, err
		}
		return ldapdb.NewPassdb(db), nil
	case "oauth2":
		return oauth2db.Open(args, oauth2db.Options{})
	}
	return nil, errNotYet
}

func newUserdb(driver, args string, log *slog.Logger) (auth.Userdb, error) {
	switch driver {
	case "passwd-file":
		return passwdfile.NewUserdb(args, passwdfile.Options{Logger: log})
	case "static":
		return staticdb.NewUserdb(args)
	case "sql":
		db, err := sqldb.Open(args, sqldb.Options{})
		if err != nil {
			return nil, err
		}
		return sqldb.NewUserdb(db), nil
	case "ldap":
		db, err := ldapdb.Open(args, ldapdb.Options{})
		if err != nil {
			return nil, err
		}
		return ldapdb.NewUserdb(db), nil
	}
	return nil, errNotYet
}

var errNotYet = fmt.Errorf("not implemented yet")

// authOptions builds the passdb and userdb chains from the passdb { } and
// userdb { } sections. A driver roost does not have yet is skipped (the
// settings package has warned about it with file:line, and the rest of the
// configuration still starts); a chain left empty is an error.
func authOptions(s *settings.Settings, log *slog.Logger) (auth.Options, error) {
	o := auth.Options{
		UsernameFormat:      s.Auth.UsernameFormat,
		UsernameChars:       s.Auth.UsernameChars,
		UsernameTranslation: s.Auth.UsernameTranslation,
		MasterUserSeparator: s.Auth.MasterUserSeparator,
		FailureDelay:        s.Auth.FailureDelay,
		Logger:              log,
		CacheSize:           int(min(s.Auth.CacheSize, 1<<40)),
		CacheTTL:            s.Auth.CacheTTL,
		CacheNegativeTTL:    s.Auth.CacheNegativeTTL,
	}
	if o.CacheNegativeTTL == 0 {
		o.CacheNegativeTTL = -1 // auth_cache_negative_ttl = 0 disables negative caching
	}
	if o.FailureDelay == 0 {
		o.FailureDelay = -1 // auth_failure_delay = 0 disables the delay
	}
	for _, db := range s.Passdbs {
		d, err := newPassdb(db.Driver, db.Args, log)
		if err == errNotYet {
			continue
		}
		if err != nil {
			return o, &ConfigError{Err: fmt.Errorf("passdb %s: %w", db.Driver, err)}
		}
		pc := auth.PassdbConfig{Name: db.Driver, Driver: d, Deny: db.Deny, Master: db.Master, Pass: db.Pass, Mechanisms: db.Mechanisms,
			DefaultFields: auth.ParseFields(db.DefaultFields), OverrideFields: auth.ParseFields(db.OverrideFields)}
		if err := parseRules(db, &pc.Skip, &pc.ResultSuccess, &pc.ResultFailure, &pc.ResultInternalFail); err != nil {
			return o, err
		}
		o.Passdbs = append(o.Passdbs, pc)
	}
	for _, db := range s.Userdbs {
		d, err := newUserdb(db.Driver, db.Args, log)
		if db.Driver == "prefetch" {
			d, err = staticdb.NewPrefetch(len(s.Userdbs) == 1), nil
		}
		if err == errNotYet {
			continue
		}
		if err != nil {
			return o, &ConfigError{Err: fmt.Errorf("userdb %s: %w", db.Driver, err)}
		}
		uc := auth.UserdbConfig{Name: db.Driver, Driver: d,
			DefaultFields: auth.ParseFields(db.DefaultFields), OverrideFields: auth.ParseFields(db.OverrideFields)}
		if err := parseRules(db, &uc.Skip, &uc.ResultSuccess, &uc.ResultFailure, &uc.ResultInternalFail); err != nil {
			return o, err
		}
		o.Userdbs = append(o.Userdbs, uc)
	}
	if len(o.Passdbs) == 0 {
		return o, &ConfigError{Err: fmt.Errorf("no passdb that roost can use is configured (passwd-file and static are implemented)")}
	}
	if len(o.Userdbs) == 0 {
		return o, &ConfigError{Err: fmt.Errorf("no userdb that roost can use is configured (passwd-file and static are implemented)")}
	}
	return o, nil
}

func parseRules(db settings.Authdb, skip *auth.Skip, ok, fail, ifail *auth.Rule) error {
	var err error
	wrap := func(name string, e error) error {
		return &ConfigError{Err: fmt.Errorf("%s { driver = %s }: %s: %w", "passdb/userdb", db.Driver, name, e)}
	}
	if db.Skip != "" {
		if *skip, err = auth.ParseSkip(db.Skip); err != nil {
			return wrap("skip", err)
		}
	}
	for _, r := range []struct {
		name, val string
		dst       *auth.Rule
	}{{"result_success", db.ResultSuccess, ok}, {"result_failure", db.ResultFailure, fail}, {"result_internalfail", db.ResultInternalfail, ifail}} {
		if strings.TrimSpace(r.val) == "" {
			continue
		}
		if *r.dst, err = auth.ParseRule(r.val); err != nil {
			return wrap(r.name, err)
		}
	}
	return nil
}
