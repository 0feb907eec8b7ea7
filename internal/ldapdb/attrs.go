package ldapdb

import (
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"roost/internal/auth"
	"roost/internal/varexpand"
)

// Attr is one item of an attribute map.
type Attr struct {
	LDAP     string // attribute name; "" for "=field=template"
	Field    string // roost/Dovecot field name
	Template string // "" when the value is the attribute's own
	HasTmpl  bool
}

// ParseAttrs reads "ldapAttr=field, ldapAttr=field=template, =field=template".
func ParseAttrs(s string) ([]Attr, error) {
	var out []Attr
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, rest, hasField := strings.Cut(item, "=")
		a := Attr{LDAP: strings.TrimSpace(name)}
		if !hasField {
			a.Field = a.LDAP
		} else {
			field, tmpl, hasTmpl := strings.Cut(rest, "=")
			a.Field, a.Template, a.HasTmpl = strings.TrimSpace(field), tmpl, hasTmpl
		}
		if a.Field == "" || (a.LDAP == "" && !a.HasTmpl) {
			return nil, fmt.Errorf("invalid attribute map item %q", item)
		}
		out = append(out, a)
	}
	return out, nil
}

// requested lists the LDAP attributes a map needs, %{ldap:x} included.
func requested(attrs []Attr) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n != "" && !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			out = append(out, n)
		}
	}
	for _, a := range attrs {
		add(a.LDAP)
		for t := a.Template; ; {
			i := strings.Index(t, "%{ldap:")
			if i < 0 {
				break
			}
			t = t[i+len("%{ldap:"):]
			end := strings.IndexAny(t, ":}")
			if end < 0 {
				break
			}
			add(t[:end])
		}
	}
	return out
}

// entryFields maps an entry through attrs.
func entryFields(req *auth.Request, e *ldap.Entry, attrs []Attr) (auth.Fields, error) {
	f := auth.Fields{}
	vars := req.Vars()
	for _, a := range attrs {
		var v string
		present := a.LDAP == ""
		if a.LDAP != "" {
			vals := e.GetEqualFoldAttributeValues(a.LDAP)
			if len(vals) > 0 {
				v, present = vals[0], true
			}
		}
		if !present {
			continue
		}
		if a.HasTmpl {
			out, err := expandTemplate(a.Template, v, e, vars)
			if err != nil {
				return nil, fmt.Errorf("%s template: %w", a.Field, err)
			}
			v = out
		}
		f[a.Field] = v
	}
	return f, nil
}

// expandTemplate expands %$ and %{ldap:attr[:default]} besides the
// request's variables.
func expandTemplate(tmpl, value string, e *ldap.Entry, vars varexpand.Map) (string, error) {
	look := varexpand.LookupFunc(func(name string) (string, bool) {
		if name == "$" {
			return value, true
		}
		if rest, ok := strings.CutPrefix(name, "ldap:"); ok {
			attr, def, _ := strings.Cut(rest, ":")
			if v := e.GetEqualFoldAttributeValue(attr); v != "" {
				return v, true
			}
			return def, true
		}
		return vars.Lookup(name)
	})
	return varexpand.Expand(tmpl, look)
}
