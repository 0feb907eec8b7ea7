package authproto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits.
const (
	// MaxLineLength bounds one line, LF excluded. Dovecot's
	// AUTH_CLIENT_MAX_LINE_LENGTH is 16384.
	MaxLineLength = 16384
	// MaxFields bounds the fields of one line.
	MaxFields = 64
	// MaxMechName bounds a mechanism name.
	MaxMechName = 64
)

// Protocol versions roost speaks.
const (
	ClientMajor, ClientMinor = 1, 2
	MasterMajor, MasterMinor = 1, 0
)

// ErrProtocol reports a line that breaks the protocol; the connection is
// closed after it.
var ErrProtocol = errors.New("auth protocol error")

// Line is one decoded line: its command and unescaped fields.
type Line struct {
	Cmd  string
	Args []string
}

// ParseLine splits and unescapes one line (without its LF; a trailing CR
// is not removed, Dovecot does not send one).
func ParseLine(b []byte) (Line, error) {
	if len(b) > MaxLineLength {
		return Line{}, fmt.Errorf("line of %d bytes: %w", len(b), ErrProtocol)
	}
	if len(b) == 0 {
		return Line{}, fmt.Errorf("empty line: %w", ErrProtocol)
	}
	if !utf8.Valid(b) {
		return Line{}, fmt.Errorf("line not UTF-8: %w", ErrProtocol)
	}
	parts := bytes.Split(b, []byte{'\t'})
	if len(parts) > MaxFields {
		return Line{}, fmt.Errorf("%d fields: %w", len(parts), ErrProtocol)
	}
	l := Line{Cmd: string(parts[0])}
	for _, p := range parts[1:] {
		v, err := Unescape(p)
		if err != nil {
			return Line{}, err
		}
		l.Args = append(l.Args, v)
	}
	return l, nil
}

// Unescape undoes str_tabescape.
func Unescape(b []byte) (string, error) {
	if bytes.IndexByte(b, 1) < 0 {
		return string(b), nil
	}
	var s strings.Builder
	for i := 0; i < len(b); i++ {
		if b[i] != 1 {
			s.WriteByte(b[i])
			continue
		}
		if i+1 == len(b) {
			return "", fmt.Errorf("dangling escape: %w", ErrProtocol)
		}
		i++
		switch b[i] {
		case '1':
			s.WriteByte(1)
		case 't':
			s.WriteByte('\t')
		case 'r':
			s.WriteByte('\r')
		case 'n':
			s.WriteByte('\n')
		default:
			return "", fmt.Errorf("bad escape: %w", ErrProtocol)
		}
	}
	return s.String(), nil
}

// Escape is str_tabescape.
func Escape(s string) string {
	if !strings.ContainsAny(s, "\x01\t\r\n") {
		return s
	}
	return strings.NewReplacer("\x01", "\x011", "\t", "\x01t", "\r", "\x01r", "\n", "\x01n").Replace(s)
}

// AppendLine appends cmd and escaped fields, tab-separated, and LF.
func AppendLine(dst []byte, cmd string, fields ...string) []byte {
	dst = append(dst, cmd...)
	for _, f := range fields {
		dst = append(dst, '\t')
		dst = append(dst, Escape(f)...)
	}
	return append(dst, '\n')
}

// ParseVersion reads "VERSION major minor" arguments.
func ParseVersion(args []string) (major, minor int, err error) {
	if len(args) < 2 {
		return 0, 0, fmt.Errorf("VERSION: too few fields: %w", ErrProtocol)
	}
	major, err1 := strconv.Atoi(args[0])
	minor, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return 0, 0, fmt.Errorf("VERSION: not numbers: %w", ErrProtocol)
	}
	return major, minor, nil
}

// ParseID reads a request id: a decimal in 1..2^32-1.
func ParseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("bad request id %q: %w", truncate(s), ErrProtocol)
	}
	return uint32(n), nil
}

func truncate(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

// Params are key=value fields; a field without '=' is a flag with an
// empty value.
type Params map[string]string

// Has reports whether key is present.
func (p Params) Has(key string) bool { _, ok := p[key]; return ok }

func parseParams(args []string) Params {
	p := Params{}
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		if _, dup := p[k]; !dup {
			p[k] = v
		}
	}
	return p
}

// Auth is an auth-client AUTH request.
type Auth struct {
	ID     uint32
	Mech   string
	Params Params // service, lip, rip, lport, rport, session, local_name, cert_username, secured, ...
	// Resp is the decoded initial response; nil when the client sent
	// none, empty for "resp=".
	Resp []byte
}

// ParseAuth reads "AUTH id mech params..." arguments.
func ParseAuth(args []string) (Auth, error) {
	if len(args) < 2 {
		return Auth{}, fmt.Errorf("AUTH: too few fields: %w", ErrProtocol)
	}
	id, err := ParseID(args[0])
	if err != nil {
		return Auth{}, err
	}
	if args[1] == "" || len(args[1]) > MaxMechName {
		return Auth{}, fmt.Errorf("AUTH: bad mechanism name: %w", ErrProtocol)
	}
	a := Auth{ID: id, Mech: strings.ToUpper(args[1]), Params: parseParams(args[2:])}
	if a.Params["service"] == "" {
		return Auth{}, fmt.Errorf("AUTH: service missing: %w", ErrProtocol)
	}
	if r, ok := a.Params["resp"]; ok {
		if a.Resp, err = base64.StdEncoding.DecodeString(r); err != nil {
			return Auth{}, fmt.Errorf("AUTH: resp not base64: %w", ErrProtocol)
		}
		if a.Resp == nil {
			a.Resp = []byte{}
		}
		delete(a.Params, "resp")
	}
	return a, nil
}

// Cont is an auth-client CONT request.
type Cont struct {
	ID    uint32
	Data  []byte
	Abort bool // the client sent "*"
}

// ParseCont reads "CONT id base64" arguments.
func ParseCont(args []string) (Cont, error) {
	if len(args) < 1 {
		return Cont{}, fmt.Errorf("CONT: too few fields: %w", ErrProtocol)
	}
	id, err := ParseID(args[0])
	if err != nil {
		return Cont{}, err
	}
	c := Cont{ID: id, Data: []byte{}}
	if len(args) < 2 {
		return c, nil
	}
	if args[1] == "*" {
		c.Abort = true
		return c, nil
	}
	if c.Data, err = base64.StdEncoding.DecodeString(args[1]); err != nil {
		return Cont{}, fmt.Errorf("CONT: data not base64: %w", ErrProtocol)
	}
	if c.Data == nil {
		c.Data = []byte{}
	}
	return c, nil
}

// Lookup is an auth-master USER or PASS request.
type Lookup struct {
	ID     uint32
	User   string
	Params Params
}

// ParseLookup reads "USER|PASS id user params..." arguments.
func ParseLookup(args []string) (Lookup, error) {
	if len(args) < 2 {
		return Lookup{}, fmt.Errorf("lookup: too few fields: %w", ErrProtocol)
	}
	id, err := ParseID(args[0])
	if err != nil {
		return Lookup{}, err
	}
	if args[1] == "" {
		return Lookup{}, fmt.Errorf("lookup: empty user: %w", ErrProtocol)
	}
	return Lookup{ID: id, User: args[1], Params: parseParams(args[2:])}, nil
}

// List is an auth-master LIST request.
type List struct {
	ID     uint32
	Mask   string // user=; empty lists everyone
	Params Params
}

// ParseList reads "LIST id params..." arguments.
func ParseList(args []string) (List, error) {
	if len(args) < 1 {
		return List{}, fmt.Errorf("LIST: too few fields: %w", ErrProtocol)
	}
	id, err := ParseID(args[0])
	if err != nil {
		return List{}, err
	}
	p := parseParams(args[1:])
	return List{ID: id, Mask: p["user"], Params: p}, nil
}

// FormatID writes a request id.
func FormatID(id uint32) string { return strconv.FormatUint(uint64(id), 10) }
