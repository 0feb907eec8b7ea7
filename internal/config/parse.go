package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// Limits on untrusted input.
const (
	// MaxDepth is the deepest section nesting accepted.
	MaxDepth = 32
	// MaxIncludeDepth is the deepest chain of !include accepted.
	MaxIncludeDepth = 16
	// MaxLineLength is the longest line, after continuations, accepted.
	MaxLineLength = 1 << 20
)

// Options control parsing. The zero value reads nothing from disk: includes
// and <file values fail unless FS is set.
type Options struct {
	// FS reads included files and <file values. Nil means includes and
	// <file are errors.
	FS FS
	// Default returns the default value of a setting, used when $key names
	// a setting not yet set in any enclosing section. Nil means no defaults:
	// an unset $key expands to "".
	Default func(key string) (string, bool)
	// Getenv returns an environment variable for $ENV:NAME. Nil expands
	// $ENV:NAME to "".
	Getenv func(name string) string
	// SkipValueFiles leaves <file values unread: Value is empty and only
	// ValueFile is set (doveconf without -x behaves this way).
	SkipValueFiles bool
	// NoExpand keeps $var references in values as written.
	NoExpand bool
}

// ParseFile parses the file at name from the operating system's filesystem.
func ParseFile(name string) (*File, error) {
	return ParseFileOptions(name, Options{FS: OS{}})
}

// ParseFileOptions parses the file at name, read through opts.FS.
func ParseFileOptions(name string, opts Options) (*File, error) {
	if opts.FS == nil {
		opts.FS = OS{}
	}
	data, err := opts.FS.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(name, bytes.NewReader(data), opts)
}

// Parse parses a configuration read from r; name is used in positions and
// as the base for relative includes.
func Parse(name string, r io.Reader, opts Options) (*File, error) {
	p := &parser{opts: opts, file: &File{Root: &Node{Section: true, Pos: Pos{File: name}}}}
	p.stack = []*Node{p.file.Root}
	if err := p.parseReader(name, r, 0); err != nil {
		return nil, err
	}
	if len(p.stack) > 1 {
		open := p.stack[len(p.stack)-1]
		return nil, &Error{Pos: Pos{File: name}, Msg: fmt.Sprintf("missing '}' (section %q opened at %s)", open.Key, open.Pos)}
	}
	return p.file, nil
}

type parser struct {
	opts  Options
	file  *File
	stack []*Node // open sections, root first
}

func (p *parser) cur() *Node { return p.stack[len(p.stack)-1] }

func (p *parser) parseReader(name string, r io.Reader, depth int) error {
	p.file.Files = append(p.file.Files, name)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineLength)
	var full strings.Builder
	lineNo, startLine := 0, 0
	for sc.Scan() {
		lineNo++
		line, cont := cleanLine(sc.Text())
		if full.Len() == 0 {
			startLine = lineNo
		}
		if full.Len()+len(line) > MaxLineLength {
			return &Error{Pos: Pos{name, lineNo}, Msg: "line too long"}
		}
		if cont {
			full.WriteString(line)
			full.WriteByte(' ')
			continue
		}
		if full.Len() > 0 {
			full.WriteString(line)
			line = full.String()
			full.Reset()
		}
		if line == "" {
			continue
		}
		if err := p.parseLine(Pos{name, startLine}, line, depth); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &Error{Pos: Pos{name, lineNo + 1}, Msg: "read: " + err.Error(), Err: err}
	}
	if full.Len() > 0 {
		return p.parseLine(Pos{name, startLine}, strings.TrimSpace(full.String()), depth)
	}
	return nil
}

// cleanLine strips leading and trailing white space and a # comment outside
// quotes. cont reports a trailing backslash, which is removed.
func cleanLine(line string) (string, bool) {
	line = strings.TrimLeft(line, " \t\r")
	if line == "" || line[0] == '#' {
		return "", false
	}
	line = line[:commentStart(line)]
	line = strings.TrimRight(line, " \t\r")
	if strings.HasSuffix(line, `\`) {
		return strings.TrimRight(line[:len(line)-1], " \t"), true
	}
	return line, false
}

// commentStart returns the index of the # that starts a comment, or len(line).
func commentStart(line string) int {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"', '\'':
			q := line[i]
			for i++; i < len(line) && line[i] != q; i++ {
				if line[i] == '\\' && i+1 < len(line) {
					i++
				}
			}
			if i >= len(line) {
				return len(line)
			}
		case '#':
			return i
		}
	}
	return len(line)
}

func isWhite(c byte) bool { return c == ' ' || c == '\t' }

func (p *parser) parseLine(pos Pos, line string, depth int) error {
	i := 0
	for i < len(line) && !isWhite(line[i]) && line[i] != '=' {
		i++
	}
	key, rest := line[:i], strings.TrimLeft(line[i:], " \t")
	switch {
	case key == "!include" || key == "!include_try":
		return p.include(pos, unquote(rest), key == "!include_try", depth)
	case strings.HasPrefix(rest, "="):
		return p.setting(pos, key, strings.TrimLeft(rest[1:], " \t"))
	case key == "}" && rest == "":
		if len(p.stack) == 1 {
			return &Error{Pos: pos, Msg: "unexpected '}'"}
		}
		p.stack = p.stack[:len(p.stack)-1]
		return nil
	case key == "":
		return &Error{Pos: pos, Msg: "expecting a setting name"}
	}
	return p.section(pos, key, rest)
}

func (p *parser) section(pos Pos, key, rest string) error {
	if rest == "" {
		return &Error{Pos: pos, Msg: fmt.Sprintf("expecting '=' after %q", key)}
	}
	name := ""
	if rest[0] != '{' {
		var err string
		name, rest, err = sectionName(rest)
		if err != "" {
			return &Error{Pos: pos, Msg: err}
		}
	}
	if rest == "" || rest[0] != '{' {
		return &Error{Pos: pos, Msg: "expecting '{'"}
	}
	if strings.TrimSpace(rest[1:]) != "" {
		return &Error{Pos: pos, Msg: "garbage after '{'"}
	}
	if len(p.stack) > MaxDepth {
		return &Error{Pos: pos, Msg: "sections nested too deeply"}
	}
	n := &Node{Pos: pos, Section: true, Key: key, Name: name}
	c := p.cur()
	c.Children = append(c.Children, n)
	p.stack = append(p.stack, n)
	return nil
}

// sectionName splits a possibly quoted section name off rest.
func sectionName(rest string) (name, after, errMsg string) {
	if q := rest[0]; q == '"' || q == '\'' {
		end := strings.IndexByte(rest[1:], q)
		if end < 0 {
			return "", "", "missing closing quote in section name"
		}
		return rest[1 : 1+end], strings.TrimLeft(rest[2+end:], " \t"), ""
	}
	end := strings.IndexAny(rest, " \t")
	if end < 0 {
		return rest, "", ""
	}
	return rest[:end], strings.TrimLeft(rest[end:], " \t"), ""
}

// unquote strips matching quotes around v and undoes backslash escapes.
func unquote(v string) string {
	if len(v) < 2 || (v[0] != '"' && v[0] != '\'') || v[len(v)-1] != v[0] {
		return v
	}
	return unescape(v[1 : len(v)-1])
}

// unescape removes each backslash, keeping the character after it, as
// Dovecot's str_unescape does.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (p *parser) setting(pos Pos, key, value string) error {
	n := &Node{Pos: pos, Key: key}
	switch {
	case strings.HasPrefix(value, "<"):
		n.ValueFile = strings.TrimLeft(value[1:], " \t")
		if err := p.readValueFile(n); err != nil {
			return err
		}
	case value != "" && (value[0] == '"' || value[0] == '\''):
		n.Value = unquote(value)
		n.Quoted = n.Value != value
	case strings.Contains(value, "$") && !p.opts.NoExpand:
		v, err := p.expandVars(pos, key, value)
		if err != nil {
			return err
		}
		n.Value = v
	default:
		n.Value = value
	}
	c := p.cur()
	c.Children = append(c.Children, n)
	return nil
}

func (p *parser) readValueFile(n *Node) error {
	if p.opts.SkipValueFiles {
		return nil
	}
	if p.opts.FS == nil {
		return &Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: can't read file %s: no filesystem", n.Key, n.ValueFile)}
	}
	data, err := p.opts.FS.ReadFile(p.resolve(n.Pos.File, n.ValueFile))
	if err != nil {
		return &Error{Pos: n.Pos, Msg: fmt.Sprintf("%s: can't open file %s: %v", n.Key, n.ValueFile, unwrapPath(err)), Err: err}
	}
	s := string(data)
	s = strings.TrimSuffix(s, "\n")
	n.Value = strings.TrimSuffix(s, "\r")
	return nil
}

// unwrapPath returns the underlying error of a *fs.PathError, so messages
// do not repeat the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// resolve makes p relative to the directory of the file that names it.
func (p *parser) resolve(from, name string) string {
	if path.IsAbs(name) {
		return name
	}
	dir := path.Dir(from)
	if dir == "." {
		return name
	}
	return path.Join(dir, name)
}

func (p *parser) include(pos Pos, pattern string, try bool, depth int) error {
	if pattern == "" {
		return &Error{Pos: pos, Msg: "!include needs a file name"}
	}
	if depth >= MaxIncludeDepth {
		return &Error{Pos: pos, Msg: "includes nested too deeply"}
	}
	if p.opts.FS == nil {
		return &Error{Pos: pos, Msg: fmt.Sprintf("can't include %s: no filesystem", pattern)}
	}
	full := p.resolve(pos.File, pattern)
	names := []string{full}
	if hasMeta(full) {
		m, err := p.opts.FS.Glob(full)
		if err != nil {
			return &Error{Pos: pos, Msg: fmt.Sprintf("include %s: %v", pattern, err), Err: err}
		}
		if len(m) == 0 && !try {
			return &Error{Pos: pos, Msg: fmt.Sprintf("include %s: no matches", pattern)}
		}
		names = m
	}
	for _, name := range names {
		data, err := p.opts.FS.ReadFile(name)
		if err != nil {
			if try && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return &Error{Pos: pos, Msg: fmt.Sprintf("include %s: %v", name, unwrapPath(err)), Err: err}
		}
		if err := p.parseReader(name, bytes.NewReader(data), depth+1); err != nil {
			return err
		}
	}
	return nil
}
