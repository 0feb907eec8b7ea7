package authserver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"roost/internal/authproto"
)

// serveClient speaks auth-client.
func (cn *conn) serveClient() error {
	cn.w.Write(authproto.AppendLine(nil, "VERSION", strconv.Itoa(authproto.ClientMajor), strconv.Itoa(authproto.ClientMinor)))
	for _, m := range cn.s.opts.SASL.Mechanisms() {
		if m.ChannelBinding {
			continue
		}
		cn.w.Write(authproto.AppendLine(nil, "MECH", append([]string{m.Name}, m.Flags()...)...))
	}
	cuid := cn.s.cuid.Add(1)
	cn.w.Write(authproto.AppendLine(nil, "SPID", pid()))
	cn.w.Write(authproto.AppendLine(nil, "CUID", strconv.FormatUint(uint64(cuid), 10)))
	cn.w.Write(authproto.AppendLine(nil, "COOKIE", cn.cookie()))
	if err := cn.send("DONE"); err != nil {
		return err
	}
	if err := cn.expectVersion(authproto.ClientMajor); err != nil {
		return err
	}
	pending := map[uint32]Exchange{}
	for {
		l, err := cn.readLine()
		if err != nil {
			return err
		}
		switch l.Cmd {
		case "CPID":
		case "AUTH":
			a, err := authproto.ParseAuth(l.Args)
			if err != nil {
				return err
			}
			if _, dup := pending[a.ID]; dup || len(pending) >= MaxPending {
				return fmt.Errorf("AUTH %d: duplicate id or too many requests: %w", a.ID, authproto.ErrProtocol)
			}
			if err := cn.auth(a, pending); err != nil {
				return err
			}
		case "CONT":
			c, err := authproto.ParseCont(l.Args)
			if err != nil {
				return err
			}
			ex, ok := pending[c.ID]
			if !ok {
				return fmt.Errorf("CONT %d: no such request: %w", c.ID, authproto.ErrProtocol)
			}
			if c.Abort {
				delete(pending, c.ID)
				if err := cn.send("FAIL", authproto.FormatID(c.ID), "reason=Authentication aborted"); err != nil {
					return err
				}
				continue
			}
			if err := cn.step(c.ID, ex, c.Data, pending); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown command %q: %w", l.Cmd, authproto.ErrProtocol)
		}
	}
}

func requestOf(a authproto.Auth) Request {
	p := a.Params
	r := Request{Service: p["service"], Secured: p.Has("secured"), ValidClientCert: p.Has("valid-client-cert"),
		CertUser: p["cert_username"], SessionID: p["session"], LocalName: p["local_name"], NoPenalty: p.Has("no-penalty")}
	r.Local = addrPort(p["lip"], p["lport"])
	r.Remote = addrPort(p["rip"], p["rport"])
	return r
}

func addrPort(ip, port string) netip.AddrPort {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return netip.AddrPort{}
	}
	n, _ := strconv.ParseUint(port, 10, 16)
	return netip.AddrPortFrom(a, uint16(n))
}

// auth starts an exchange and runs its first step.
func (cn *conn) auth(a authproto.Auth, pending map[uint32]Exchange) error {
	ex, err := cn.s.opts.SASL.Begin(cn.s.ctx, requestOf(a), a.Mech)
	if err != nil {
		return cn.fail(a.ID, err)
	}
	pending[a.ID] = ex
	return cn.step(a.ID, ex, a.Resp, pending)
}

// step runs one exchange step and answers CONT, OK or FAIL.
func (cn *conn) step(id uint32, ex Exchange, resp []byte, pending map[uint32]Exchange) error {
	ch, user, err := ex.Next(cn.s.ctx, resp)
	sid := authproto.FormatID(id)
	switch {
	case err != nil:
		delete(pending, id)
		return cn.fail(id, err)
	case user != "":
		delete(pending, id)
		return cn.send("OK", sid, "user="+user)
	}
	return cn.send("CONT", sid, base64.StdEncoding.EncodeToString(ch))
}

func (cn *conn) fail(id uint32, err error) error {
	fields := []string{authproto.FormatID(id)}
	var f *Failure
	if errors.As(err, &f) {
		if f.User != "" {
			fields = append(fields, "user="+f.User)
		}
		if f.Temp {
			fields = append(fields, "temp")
		}
		if f.Reason != "" {
			fields = append(fields, "reason="+f.Reason)
		}
	}
	return cn.send("FAIL", fields...)
}
