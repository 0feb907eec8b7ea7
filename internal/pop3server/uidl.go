package pop3server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"roost/internal/varexpand"
)

// UIDL format variables (Dovecot's uidl_keys).
const (
	keyUIDValidity = 1 << iota
	keyUID
	keyMD5
	keyFileName
	keyGUID
)

// uidlKeys returns which variables format uses; 0 means the format is
// invalid (Dovecot: "Invalid pop3_uidl_format").
func uidlKeys(format string) int {
	keys := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' || i+1 >= len(format) {
			continue
		}
		i++
		name := varName(format, &i)
		switch name {
		case "v", "uidvalidity":
			keys |= keyUIDValidity
		case "u", "uid":
			keys |= keyUID
		case "m", "md5":
			keys |= keyMD5
		case "f", "filename":
			keys |= keyFileName
		case "g", "guid":
			keys |= keyGUID
		}
	}
	return keys
}

// varName skips the offset, width and modifiers of the directive at
// format[*i] and returns its variable name, leaving *i on its last byte.
func varName(format string, i *int) string {
	for *i < len(format) && strings.IndexByte("-0123456789.LUERXMHNDT", format[*i]) >= 0 {
		*i++
	}
	if *i >= len(format) {
		return ""
	}
	if format[*i] == '{' {
		end := strings.IndexByte(format[*i:], '}')
		if end < 0 {
			return ""
		}
		name := format[*i+1 : *i+end]
		*i += end
		return name
	}
	return format[*i : *i+1]
}

// errUIDL fails the UIDL command; Dovecot then ends the session.
var errUIDL = errors.New("POP3 UIDLs couldn't be listed")

// uidl returns the UIDL of message i and whether it is a saved one.
func (c *conn) uidl(ctx context.Context, i int) (string, bool, error) {
	b := c.box
	uid := b.msgs[i].UID
	if s, ok := b.mb.(UIDLStore); ok {
		v, err := s.POP3UIDL(ctx, uid)
		if err != nil {
			return "", false, fmt.Errorf("saved UIDL lookup: %w", err)
		}
		if v != "" {
			return v, true, nil
		}
	}
	if c.srv.opts.ReuseXUIDL {
		if v, err := c.xuidl(ctx, uid); err == nil && v != "" {
			return v, false, nil
		}
	}
	vars, err := c.uidlVars(ctx, uid)
	if err != nil {
		return "", false, err
	}
	s, err := varexpand.Expand(c.srv.opts.UIDLFormat, varexpand.LookupFunc(func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}))
	if err != nil {
		return "", false, fmt.Errorf("UIDL: Failed to expand pop3_uidl_format=%s: %w", c.srv.opts.UIDLFormat, err)
	}
	return s, false, nil
}

// uidlVars looks up the variables the format uses.
func (c *conn) uidlVars(ctx context.Context, uid uint32) (map[string]string, error) {
	b := c.box
	keys := uidlKeys(c.srv.opts.UIDLFormat)
	vars := map[string]string{}
	set := func(short, long, v string) { vars[short], vars[long] = v, v }
	set("v", "uidvalidity", strconv.FormatUint(uint64(b.uidValidity), 10))
	set("u", "uid", strconv.FormatUint(uint64(uid), 10))
	lookups := []struct {
		key         int
		short, long string
		what, name  string
		get         func() (func(context.Context, uint32) (string, error), bool)
	}{
		{keyMD5, "m", "md5", "Header MD5", "%m", func() (func(context.Context, uint32) (string, error), bool) {
			x, ok := b.mb.(HeaderMD5er)
			if !ok {
				return nil, false
			}
			return x.HeaderMD5, true
		}},
		{keyFileName, "f", "filename", "File name", "%f", func() (func(context.Context, uint32) (string, error), bool) {
			x, ok := b.mb.(StorageIDer)
			if !ok {
				return nil, false
			}
			return x.StorageID, true
		}},
		{keyGUID, "g", "guid", "Message GUID", "%g", func() (func(context.Context, uint32) (string, error), bool) {
			x, ok := b.mb.(GUIDer)
			if !ok {
				return nil, false
			}
			return x.GUID, true
		}},
	}
	for _, l := range lookups {
		if keys&l.key == 0 {
			continue
		}
		get, ok := l.get()
		v := ""
		if ok {
			var err error
			if v, err = get(ctx, uid); err != nil {
				return nil, fmt.Errorf("UIDL: %s lookup failed: %w", l.what, err)
			}
		}
		if v == "" {
			return nil, fmt.Errorf("UIDL: %s not found (pop3_uidl_format=%s not supported by storage?)", l.what, l.name)
		}
		set(l.short, l.long, v)
	}
	return vars, nil
}

// xuidl returns the message's first X-UIDL header value.
func (c *conn) xuidl(ctx context.Context, uid uint32) (string, error) {
	r, err := c.box.mb.Open(ctx, uid)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return firstHeader(io.NewSectionReader(r, 0, r.Size()), "X-UIDL")
}

// maxHeaderScan bounds how much of a message firstHeader reads.
const maxHeaderScan = 1 << 20

// firstHeader returns the unfolded value of the first header field name.
func firstHeader(r io.Reader, name string) (string, error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxHeaderScan))
	sc.Buffer(make([]byte, 4096), maxHeaderScan)
	var val strings.Builder
	found := false
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if found {
				val.WriteString(line)
			}
			continue
		}
		if found {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(strings.TrimRight(k, " \t"), name) {
			found = true
			val.WriteString(strings.TrimLeft(v, " \t"))
		}
	}
	return strings.TrimSpace(val.String()), sc.Err()
}

// allUIDLs computes the UIDL of every message once per session, renaming
// duplicates with pop3_uidl_duplicates = rename and saving new UIDLs with
// pop3_save_uidl.
func (c *conn) allUIDLs(ctx context.Context) ([]string, error) {
	b := c.box
	if b.uidls != nil || len(b.msgs) == 0 {
		return b.uidls, nil
	}
	out := make([]string, len(b.msgs))
	seen := map[string]int{}
	unsaved := map[uint32]string{}
	for i := range b.msgs {
		u, saved, err := c.uidl(ctx, i)
		if err != nil {
			return nil, err
		}
		if c.srv.opts.UIDLDuplicates == uidlDuplicatesRename {
			u = renameDuplicate(u, seen)
		}
		if !saved {
			unsaved[b.msgs[i].UID] = u
		}
		out[i] = u
	}
	if c.srv.opts.SaveUIDL && len(unsaved) > 0 {
		if err := c.saveUIDLs(ctx, unsaved); err != nil {
			c.log.Errorf("save UIDLs: %v", err)
		}
	}
	b.uidls = out
	return out, nil
}

// saveUIDLs keeps UIDLs in the storage (Dovecot's uidlist "P" fields), in
// one batch when the mailbox can.
func (c *conn) saveUIDLs(ctx context.Context, uidls map[uint32]string) error {
	if s, ok := c.box.mb.(UIDLBatchStore); ok {
		return s.SetPOP3UIDLs(ctx, uidls)
	}
	s, ok := c.box.mb.(UIDLStore)
	if !ok {
		return nil
	}
	for uid, u := range uidls {
		if err := s.SetPOP3UIDL(ctx, uid, u); err != nil {
			return err
		}
	}
	return nil
}

// renameDuplicate appends "-N" to a UIDL already used, as Dovecot's
// uidl_rename_duplicate.
func renameDuplicate(u string, seen map[string]int) string {
	for {
		n, dup := seen[u]
		if !dup {
			seen[u] = 1
			return u
		}
		seen[u] = n + 1
		u = fmt.Sprintf("%s-%d", u, n+1)
	}
}
