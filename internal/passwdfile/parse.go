package passwdfile

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"roost/internal/auth"
)

// MaxLine bounds one line of a passwd-file.
const MaxLine = 64 * 1024

// Entry is one parsed line.
type Entry struct {
	User     string
	Password string
	UID, GID string // numeric, "" when absent
	Gecos    string
	Home     string
	Shell    string
	Extra    auth.Fields // extra fields, values still %-templates
	Order    []string    // keys of Extra as written
	Line     int
}

// LineError is a malformed line; the file's other lines are still used.
type LineError struct {
	Path string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// ParseLine parses one line. ok is false for blank and comment lines.
func ParseLine(line string) (e Entry, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	if line == "" || line[0] == '#' || line[0] == ':' {
		return Entry{}, false, nil
	}
	f := strings.Split(line, ":")
	e.User = f[0]
	field := func(i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	e.Password = field(1)
	if e.UID, err = parseID(field(2), auth.ParseUID); err != nil {
		return Entry{}, true, fmt.Errorf("user %s has invalid UID: %w", e.User, err)
	}
	if e.GID, err = parseID(field(3), auth.ParseGID); err != nil {
		return Entry{}, true, fmt.Errorf("user %s has invalid GID: %w", e.User, err)
	}
	e.Gecos, e.Home, e.Shell = field(4), field(5), field(6)
	if len(f) > 7 {
		e.Extra, e.Order = extraFields(f[7:])
	}
	return e, true, nil
}

// extraFields reads the fields after the shell: new format is a
// space-separated list; old format is an empty field then a mail location.
func extraFields(rest []string) (auth.Fields, []string) {
	if rest[0] == "" {
		if mail := strings.Join(rest[1:], ":"); mail != "" {
			return auth.Fields{"userdb_mail": mail}, []string{"userdb_mail"}
		}
		return nil, nil
	}
	return auth.ParseFieldsOrdered(strings.Join(rest, ":"))
}

// parseID returns "" for an empty field, the number for a valid id; names
// resolve through the system databases. 0 (root) is refused, as Dovecot does.
func parseID(s string, resolve func(string) (int, error)) (string, error) {
	if s == "" {
		return "", nil
	}
	n, err := resolve(s)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", fmt.Errorf("%q: uid/gid 0 not allowed", s)
	}
	return strconv.Itoa(n), nil
}

// Users is a parsed file: entries by name, in file order.
type Users struct {
	ByName map[string]*Entry
	Order  []string
}

// Parse reads a whole file. Malformed lines and duplicate users are
// returned as *LineError and skipped; the first definition of a user wins.
func Parse(r io.Reader, path string) (*Users, []error, error) {
	u := &Users{ByName: map[string]*Entry{}}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxLine)
	for n := 1; sc.Scan(); n++ {
		e, ok, err := ParseLine(sc.Text())
		if err != nil {
			errs = append(errs, &LineError{path, n, err})
			continue
		}
		if !ok {
			continue
		}
		if _, dup := u.ByName[e.User]; dup {
			errs = append(errs, &LineError{path, n, fmt.Errorf("user %s exists more than once", e.User)})
			continue
		}
		e.Line = n
		u.ByName[e.User] = &e
		u.Order = append(u.Order, e.User)
	}
	if err := sc.Err(); err != nil {
		return nil, errs, fmt.Errorf("read %s: %w", path, err)
	}
	return u, errs, nil
}
