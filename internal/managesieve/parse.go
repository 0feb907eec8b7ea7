package managesieve

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits of the command parser.
const (
	DefaultMaxLineLength = 65536    // managesieve_max_line_length
	MaxLiteral           = 16 << 20 // largest literal argument accepted
	maxArgs              = 16
)

// argKind tells how an argument was written.
type argKind int

const (
	argAtom argKind = iota
	argString
	argNumber
)

type arg struct {
	kind argKind
	s    string
	n    uint64
}

// command is one parsed client command.
type command struct {
	name string // upper-cased
	args []arg
}

// errSyntax is a malformed command; the rest of its line was read, so the
// session can go on.
type errSyntax struct{ msg string }

func (e *errSyntax) Error() string { return e.msg }

// errFatal ends the session: the input cannot be resynchronised.
var errFatal = errors.New("managesieve: unrecoverable input")

// parser reads commands. A literal's data is read as part of its command.
type parser struct {
	br      *bufio.Reader
	maxLine int
}

// readLine reads one line without its CRLF (a bare LF is accepted).
func (p *parser) readLine() (string, error) {
	var b []byte
	for {
		chunk, err := p.br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > p.maxLine {
			return "", errFatal
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

// readCommand reads one command with its arguments.
func (p *parser) readCommand() (*command, error) {
	line, err := p.readLine()
	if err != nil {
		return nil, err
	}
	c := &command{}
	i := 0
	for i < len(line) && isAtomChar(line[i]) {
		i++
	}
	c.name = strings.ToUpper(line[:i])
	if c.name == "" {
		return nil, &errSyntax{"Error in MANAGESIEVE command received by server."}
	}
	if err := p.readArgs(c, line[i:]); err != nil {
		return c, err
	}
	return c, nil
}

// readArgs parses the arguments in rest, reading literals and the lines
// after them from the input.
func (p *parser) readArgs(c *command, rest string) error {
	var synErr error
	fail := func(msg string) {
		if synErr == nil {
			synErr = &errSyntax{msg}
		}
	}
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			return synErr
		}
		if len(c.args) >= maxArgs {
			fail("Too many arguments.")
			return synErr
		}
		switch ch := rest[0]; {
		case ch == '"':
			s, n, ok := parseQuoted(rest)
			if !ok {
				fail("Invalid arguments.")
				return synErr
			}
			c.args = append(c.args, arg{kind: argString, s: s})
			rest = rest[n:]
		case ch == '{':
			size, ok := parseLiteralHeader(rest)
			if !ok {
				fail("Invalid arguments.")
				return synErr
			}
			if size > MaxLiteral {
				return errFatal
			}
			data := make([]byte, size)
			if _, err := io.ReadFull(p.br, data); err != nil {
				return err
			}
			c.args = append(c.args, arg{kind: argString, s: string(data)})
			line, err := p.readLine()
			if err != nil {
				return err
			}
			rest = line
		case ch >= '0' && ch <= '9':
			j := 0
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			n, err := strconv.ParseUint(rest[:j], 10, 64)
			if err != nil {
				fail("Invalid arguments.")
			}
			c.args = append(c.args, arg{kind: argNumber, n: n, s: rest[:j]})
			rest = rest[j:]
		default:
			j := 0
			for j < len(rest) && isAtomChar(rest[j]) {
				j++
			}
			if j == 0 {
				fail("Invalid arguments.")
				return synErr
			}
			c.args = append(c.args, arg{kind: argAtom, s: rest[:j]})
			rest = rest[j:]
		}
		if rest != "" && rest[0] != ' ' {
			fail("Invalid arguments.")
			return synErr
		}
	}
}

// parseLiteralHeader parses "{N}" or "{N+}", which must end the line.
func parseLiteralHeader(s string) (int64, bool) {
	if !strings.HasSuffix(s, "}") {
		return 0, false
	}
	num := strings.TrimSuffix(strings.TrimSuffix(s[1:], "}"), "+")
	if num == "" || len(num) > 18 {
		return 0, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// parseQuoted parses a quoted string at the start of s (RFC 5804 section
// 4: \" and \\ are the only escapes; no CR, LF or NUL inside).
func parseQuoted(s string) (string, int, bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1, true
		case '\\':
			i++
			if i >= len(s) || (s[i] != '"' && s[i] != '\\') {
				return "", 0, false
			}
			b.WriteByte(s[i])
		case 0, '\r', '\n':
			return "", 0, false
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, false
}

func isAtomChar(c byte) bool {
	return c > ' ' && c < 0x7f && c != '"' && c != '{' && c != '}' && c != '(' && c != ')' && c != '%' && c != '*' && c != '\\'
}

// str returns argument i as a string, checking kinds.
func (c *command) str(i int) (string, bool) {
	if i >= len(c.args) || c.args[i].kind != argString {
		return "", false
	}
	return c.args[i].s, true
}

// checkArgs checks the argument count: the reply text when wrong.
func (c *command) checkArgs(n int) string {
	switch {
	case len(c.args) == 0 && n > 0:
		return fmt.Sprintf("Error in MANAGESIEVE command %s: Missing arguments.", c.name)
	case len(c.args) < n:
		return fmt.Sprintf("Error in MANAGESIEVE command %s: Invalid arguments.", c.name)
	case len(c.args) > n:
		return fmt.Sprintf("Error in MANAGESIEVE command %s: Too many arguments.", c.name)
	}
	return ""
}

// readString reads a line holding one string (a SASL response).
func (p *parser) readString() (string, error) {
	line, err := p.readLine()
	if err != nil {
		return "", err
	}
	c := &command{}
	if err := p.readArgs(c, line); err != nil {
		return "", err
	}
	s, ok := c.str(0)
	if !ok || len(c.args) != 1 {
		return "", &errSyntax{"Invalid AUTHENTICATE client response."}
	}
	return s, nil
}
