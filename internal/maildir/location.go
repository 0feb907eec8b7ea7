package maildir

import (
	"path/filepath"
	"strings"

	"roost/internal/storage"
)

// location is a parsed mail_location for the maildir driver.
type location struct {
	root       string // mail root
	inbox      string // INBOX directory
	index      string // roost index root; "" when INDEX=MEMORY
	control    string // control root (uidlist, keywords, subscriptions)
	dirname    string // DIRNAME=: maildir lives in this subdirectory
	layoutFS   bool   // LAYOUT=fs instead of Maildir++
	utf8       bool   // names on disk in UTF-8 instead of modified UTF-7
	rootInHome bool   // root was given relative to ~
}

// parseLocation parses "maildir:~/Maildir:KEY=value:...". "::" is a
// literal ':' in a value, as in Dovecot.
func parseLocation(loc, home string) (location, error) {
	var l location
	rest, ok := strings.CutPrefix(loc, "maildir:")
	if !ok {
		if strings.Contains(loc, ":") && !strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "~") {
			return l, storage.Errorf(storage.KindParams, "Unsupported mail location: %s", loc)
		}
		rest = loc
	}
	parts := splitLocation(rest)
	if len(parts) == 0 || parts[0] == "" {
		return l, storage.Errorf(storage.KindParams, "Root mail directory not given")
	}
	var err error
	l.rootInHome = strings.HasPrefix(parts[0], "~")
	if l.root, err = expandHome(parts[0], home); err != nil {
		return l, err
	}
	l.inbox, l.control, l.index = l.root, "", l.root
	for _, p := range parts[1:] {
		key, val, _ := strings.Cut(p, "=")
		switch strings.ToUpper(key) {
		case "INBOX":
			l.inbox, err = expandHome(val, home)
		case "INDEX":
			if val == "MEMORY" {
				l.index = ""
			} else {
				l.index, err = expandHome(val, home)
			}
		case "CONTROL":
			l.control, err = expandHome(val, home)
		case "LAYOUT":
			switch strings.ToLower(val) {
			case "fs":
				l.layoutFS = true
			case "maildir++":
			default:
				return l, storage.Errorf(storage.KindParams, "Unknown mailbox list layout: %s", val)
			}
		case "UTF-8":
			l.utf8 = true
		case "DIRNAME":
			l.dirname = val
		case "", "NO-NOSELECT", "VOLATILEDIR", "FULLDIRNAME", "ITERINDEX", "ALT", "SUBSCRIPTIONS", "LISTINDEX", "NOLOCKFILES", "INDEXPVT":
			// accepted and ignored
		default:
			return l, storage.Errorf(storage.KindParams, "Unknown setting in mail location: %s", key)
		}
		if err != nil {
			return l, err
		}
	}
	if l.control == "" {
		l.control = l.root
	}
	return l, nil
}

func splitLocation(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			if i+1 < len(s) && s[i+1] == ':' {
				cur.WriteByte(':')
				i++
				continue
			}
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(s[i])
	}
	return append(parts, cur.String())
}

func expandHome(p, home string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home == "" {
			return "", storage.Errorf(storage.KindUnavailable, "Home directory not set, can't expand ~ in mail location")
		}
		p = home + p[1:]
	}
	if !filepath.IsAbs(p) {
		return "", storage.Errorf(storage.KindParams, "Relative path in mail location: %s", p)
	}
	return filepath.Clean(p), nil
}
