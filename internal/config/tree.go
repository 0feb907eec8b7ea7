package config

import (
	"fmt"
	"strconv"
)

// Pos is where a node was written.
type Pos struct {
	File string
	Line int
}

// String formats p as "file:line", the form every error uses.
func (p Pos) String() string {
	return p.File + ":" + strconv.Itoa(p.Line)
}

// Node is one line of configuration: a setting (Section false) or a
// section (Section true) with its children in file order. Included files'
// nodes appear inline where the !include was.
type Node struct {
	Pos
	// Section is true for "type [name] { ... }".
	Section bool
	// Key is the setting name, or the section type ("service", "mailbox").
	Key string
	// Name is the section's name ("imap-login", "Sent Messages"), empty for
	// anonymous sections such as "passdb {".
	Name string
	// Value is the setting's value after unquoting, $var expansion and
	// reading of <file.
	Value string
	// ValueFile is the path of a "key = <path" value, as written; empty
	// otherwise.
	ValueFile string
	// Quoted is true when the value was written in quotes.
	Quoted bool
	// Children are the settings and sections inside a section.
	Children []*Node
}

// File is a parsed configuration: the root section and the files read.
type File struct {
	Root *Node
	// Files lists every configuration file read, the main one first, then
	// included files in the order they were read.
	Files []string
	// Warnings are non-fatal remarks, each prefixed with file:line.
	Warnings []string
}

// Get returns the last setting named key directly inside n.
func (n *Node) Get(key string) (*Node, bool) {
	for i := len(n.Children) - 1; i >= 0; i-- {
		c := n.Children[i]
		if !c.Section && c.Key == key {
			return c, true
		}
	}
	return nil, false
}

// ValueOf returns the last value of key directly inside n, or "" if unset.
func (n *Node) ValueOf(key string) string {
	if c, ok := n.Get(key); ok {
		return c.Value
	}
	return ""
}

// Sections returns the sections of type key directly inside n, in order.
func (n *Node) Sections(key string) []*Node {
	var out []*Node
	for _, c := range n.Children {
		if c.Section && c.Key == key {
			out = append(out, c)
		}
	}
	return out
}

// Error is a parse error at a position.
type Error struct {
	Pos
	Msg string
	Err error
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Pos, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }
