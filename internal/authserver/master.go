package authserver

import (
	"context"
	"fmt"
	"path"
	"strconv"

	"roost/internal/auth"
	"roost/internal/authproto"
)

// serveMaster speaks auth-master; userdbOnly refuses PASS (the
// auth-userdb socket, which is often world-accessible).
func (cn *conn) serveMaster(userdbOnly bool) error {
	cn.w.Write(authproto.AppendLine(nil, "VERSION", strconv.Itoa(authproto.MasterMajor), strconv.Itoa(authproto.MasterMinor)))
	if err := cn.send("SPID", pid()); err != nil {
		return err
	}
	if err := cn.expectVersion(authproto.MasterMajor); err != nil {
		return err
	}
	ctx := cn.s.ctx
	for {
		l, err := cn.readLine()
		if err != nil {
			return err
		}
		switch l.Cmd {
		case "USER", "PASS":
			lu, err := authproto.ParseLookup(l.Args)
			if err != nil {
				return err
			}
			if l.Cmd == "PASS" && userdbOnly {
				cn.log.Warn("auth-userdb client tried a PASS lookup; use the auth-master socket")
				err = cn.send("FAIL", authproto.FormatID(lu.ID), "reason=No permission for PASS lookups on this socket")
			} else if l.Cmd == "USER" {
				err = cn.userLookup(ctx, lu)
			} else {
				err = cn.passLookup(ctx, lu)
			}
			if err != nil {
				return err
			}
		case "LIST":
			li, err := authproto.ParseList(l.Args)
			if err != nil {
				return err
			}
			if err := cn.list(ctx, li); err != nil {
				return err
			}
		case "CACHE-FLUSH":
			if len(l.Args) < 1 {
				return fmt.Errorf("CACHE-FLUSH without id: %w", authproto.ErrProtocol)
			}
			id, err := authproto.ParseID(l.Args[0])
			if err != nil {
				return err
			}
			if userdbOnly {
				cn.log.Warn("auth-userdb client tried CACHE-FLUSH; use the auth-master socket")
				if err := cn.send("FAIL", authproto.FormatID(id)); err != nil {
					return err
				}
				continue
			}
			n := cn.s.opts.Auth.FlushCache(l.Args[1:])
			cn.log.Info("auth cache flushed", "entries", n, "users", len(l.Args[1:]))
			if err := cn.send("OK", authproto.FormatID(id), strconv.Itoa(n)); err != nil {
				return err
			}
		case "CPID":
		default:
			return fmt.Errorf("unknown command %q: %w", l.Cmd, authproto.ErrProtocol)
		}
	}
}

func lookupRequest(lu authproto.Lookup) *auth.Request {
	p := lu.Params
	svc := p["service"]
	if svc == "" {
		svc = "doveadm"
	}
	return &auth.Request{Service: svc, User: lu.User, Local: addrPort(p["lip"], p["lport"]),
		Remote: addrPort(p["rip"], p["rport"]), SessionID: p["session"], Secured: p.Has("secured")}
}

// OrderedFields renders fields as key=value (flags bare), in order (keys
// order lacks come after, sorted), as Dovecot keeps the databases' order.
func OrderedFields(f auth.Fields, order []string) []string {
	keys := f.Keys(order)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if f[k] == "" {
			out = append(out, k)
		} else {
			out = append(out, k+"="+f[k])
		}
	}
	return out
}

func (cn *conn) userLookup(ctx context.Context, lu authproto.Lookup) error {
	id := authproto.FormatID(lu.ID)
	res := cn.s.opts.Auth.LookupUser(ctx, lookupRequest(lu))
	switch res.Status {
	case auth.OK:
		return cn.send("USER", append([]string{id, res.User}, OrderedFields(res.Fields, res.Order)...)...)
	case auth.InternalFail:
		return cn.send("FAIL", id, "reason=Internal error occurred. Refer to server log for more information.")
	}
	return cn.send("NOTFOUND", id)
}

func (cn *conn) passLookup(ctx context.Context, lu authproto.Lookup) error {
	id := authproto.FormatID(lu.ID)
	res := cn.s.opts.Auth.LookupCredentials(ctx, lookupRequest(lu), "")
	switch res.Status {
	case auth.OK:
		f := res.Fields.Clone()
		for k, v := range res.Userdb {
			f["userdb_"+k] = v
		}
		return cn.send("PASS", append([]string{id, "user=" + res.User}, OrderedFields(f, res.Order)...)...)
	case auth.InternalFail:
		return cn.send("FAIL", id, "reason=Internal error occurred. Refer to server log for more information.")
	}
	return cn.send("NOTFOUND", id)
}

// list iterates users matching the mask (path.Match wildcards * and ?).
func (cn *conn) list(ctx context.Context, li authproto.List) error {
	id := authproto.FormatID(li.ID)
	var werr error
	err := cn.s.opts.Auth.IterateUsers(ctx, func(u string) error {
		if li.Mask != "" {
			if ok, _ := path.Match(li.Mask, u); !ok {
				return nil
			}
		}
		cn.w.Write(authproto.AppendLine(nil, "LIST", id, u))
		if cn.w.Buffered() > 32<<10 {
			werr = cn.w.Flush()
		}
		return werr
	})
	if werr != nil {
		return werr
	}
	if err != nil {
		cn.log.Error("user iteration failed", "error", err.Error())
		return cn.send("DONE", id, "fail")
	}
	return cn.send("DONE", id)
}
