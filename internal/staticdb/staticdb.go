package staticdb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"roost/internal/auth"
)

// Userdb is the static userdb.
type Userdb struct {
	fields   auth.Fields // templates; uid/gid already numeric
	allowAll bool
}

// NewUserdb parses "uid=vmail gid=vmail home=/var/vmail/%d/%n [allow_all_users=yes]".
func NewUserdb(args string) (*Userdb, error) {
	u := &Userdb{fields: auth.Fields{}}
	for k, v := range auth.ParseFields(args) {
		switch k {
		case "allow_all_users":
			b, err := parseBool(v)
			if err != nil {
				return nil, fmt.Errorf("static userdb: allow_all_users: %w", err)
			}
			u.allowAll = b
		case "uid", "gid":
			n, err := resolveID(k, v)
			if err != nil {
				return nil, fmt.Errorf("static userdb: %w", err)
			}
			u.fields[k] = n
		default:
			u.fields[k] = v
		}
	}
	return u, nil
}

// resolveID turns a name into a number now, unless it is a template.
func resolveID(key, v string) (string, error) {
	if strings.Contains(v, "%") {
		return v, nil
	}
	parse := auth.ParseUID
	if key == "gid" {
		parse = auth.ParseGID
	}
	n, err := parse(v)
	if err != nil {
		return "", err
	}
	return strconv.Itoa(n), nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "y", "1", "true", "":
		return true, nil
	case "no", "n", "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", v)
}

// LookupUser implements auth.Userdb.
func (u *Userdb) LookupUser(ctx context.Context, req *auth.Request) auth.UserResult {
	if !u.allowAll && !req.Authenticated() {
		res := req.LookupPassdb(ctx)
		switch res.Status {
		case auth.OK:
		case auth.UserUnknown, auth.PasswordMismatch, auth.UserDisabled:
			return auth.UserResult{Status: auth.UserUnknown}
		default:
			return auth.UserResult{Status: auth.InternalFail, Err: fmt.Errorf("static userdb: passdb lookup: %w", errOr(res.Err))}
		}
	}
	f, err := expand(req, u.fields)
	if err != nil {
		return auth.UserResult{Status: auth.InternalFail, Err: err}
	}
	return auth.UserResult{Status: auth.OK, Fields: f}
}

func errOr(err error) error {
	if err == nil {
		return errors.New("lookup failed")
	}
	return err
}

func expand(req *auth.Request, tmpl auth.Fields) (auth.Fields, error) {
	out := make(auth.Fields, len(tmpl))
	for k, v := range tmpl {
		e, err := req.Expand(v)
		if err != nil {
			return nil, fmt.Errorf("static: field %s: %w", k, err)
		}
		out[k] = e
	}
	return out, nil
}

// Passdb is the static passdb.
type Passdb struct {
	password   string // template; "" with nopassword
	nopassword bool
	fields     auth.Fields
}

// NewPassdb parses "password=<template> [key=value ...]" or "nopassword".
func NewPassdb(args string) (*Passdb, error) {
	p := &Passdb{fields: auth.Fields{}}
	hasPassword := false
	for k, v := range auth.ParseFields(args) {
		switch k {
		case "password":
			p.password, hasPassword = v, true
		case "nopassword":
			b, err := parseBool(v)
			if err != nil {
				return nil, fmt.Errorf("static passdb: nopassword: %w", err)
			}
			p.nopassword = b
		default:
			p.fields[k] = v
		}
	}
	if !hasPassword && !p.nopassword {
		return nil, errors.New("static passdb: args need password= or nopassword")
	}
	if p.nopassword {
		p.fields["nopassword"] = ""
	}
	return p, nil
}

func (p *Passdb) entry(req *auth.Request) (string, auth.Fields, error) {
	pw, err := req.Expand(p.password)
	if err != nil {
		return "", nil, fmt.Errorf("static passdb: password: %w", err)
	}
	f, err := expand(req, p.fields)
	return pw, f, err
}

// VerifyPlain implements auth.Passdb.
func (p *Passdb) VerifyPlain(ctx context.Context, req *auth.Request, password string) auth.PassResult {
	stored, f, err := p.entry(req)
	if err != nil {
		return auth.PassResult{Status: auth.InternalFail, Err: err}
	}
	st, err := req.VerifyPassword(ctx, password, stored, "PLAIN", f)
	return auth.PassResult{Status: st, Fields: f, Err: err}
}

// LookupCredentials implements auth.Passdb.
func (p *Passdb) LookupCredentials(_ context.Context, req *auth.Request) auth.PassResult {
	stored, f, err := p.entry(req)
	if err != nil {
		return auth.PassResult{Status: auth.InternalFail, Err: err}
	}
	return auth.PassResult{Status: auth.OK, Password: stored, Scheme: "PLAIN", Fields: f}
}
