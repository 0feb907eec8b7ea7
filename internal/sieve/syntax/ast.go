package syntax

import "fmt"

// Limits, with Pigeonhole's values.
const (
	MaxIdentifierLen = 32      // SIEVE_MAX_IDENTIFIER_LEN
	MaxArguments     = 32      // SIEVE_MAX_COMMAND_ARGUMENTS
	MaxBlockNesting  = 32      // SIEVE_MAX_BLOCK_NESTING
	MaxTestNesting   = 32      // SIEVE_MAX_TEST_NESTING
	MaxStringLen     = 1 << 20 // one string literal
	MaxErrors        = 100     // parsing stops after this many errors
)

// Pos is a position in a script, both counted from 1.
type Pos struct {
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Script is a parsed script: its top-level commands.
type Script struct {
	Commands []*Command
}

// Command is a command or a test; the grammar is the same for both.
type Command struct {
	Pos  Pos
	Name string
	Args []*Arg
	// Tests are the test or test-list after the arguments. TestList tells
	// "(t)" from "t".
	Tests    []*Command
	TestList bool
	// Block is the command's block when HasBlock is set.
	Block    []*Command
	HasBlock bool
}

// ArgKind tells the kinds of argument apart.
type ArgKind int

// Argument kinds.
const (
	ArgTag ArgKind = iota
	ArgNumber
	ArgString
	ArgStringList
)

func (k ArgKind) String() string {
	switch k {
	case ArgTag:
		return "tag"
	case ArgNumber:
		return "number"
	case ArgString:
		return "string"
	default:
		return "string list"
	}
}

// Arg is one argument. A string is kept apart from a one-element list so
// that validators can report what was written.
type Arg struct {
	Pos     Pos
	Kind    ArgKind
	Tag     string // without the colon
	Number  uint64
	Strings []string
}

// Error is a compile error with its position.
type Error struct {
	// Script names the script the error is in when it is not the one
	// being compiled (an included script); empty otherwise.
	Script string
	Pos    Pos
	Msg    string
}

func (e *Error) Error() string {
	if e.Script != "" {
		return fmt.Sprintf("%s: line %d: %s", e.Script, e.Pos.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Pos.Line, e.Msg)
}

// ErrorList is every error found in one script.
type ErrorList []*Error

func (l ErrorList) Error() string {
	if len(l) == 0 {
		return "no errors"
	}
	if len(l) == 1 {
		return l[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", l[0].Error(), len(l)-1)
}
