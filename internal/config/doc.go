// Package config parses Dovecot 2.3 configuration syntax into a tree that
// keeps file:line for every node.
//
// It implements the syntax of Dovecot's config-parser.c as seen from a
// configuration file, not the meaning of any setting (that is package
// settings):
//
//   - key = value, with a later assignment to the same key in the same
//     section overriding an earlier one (both are kept in the tree; readers
//     take the last);
//   - sections "type [name] {" ... "}", nested to any depth up to MaxDepth;
//   - !include and !include_try with globs, matches sorted, relative paths
//     resolved against the including file's directory;
//   - key = <file, the value being the file's contents less one trailing
//     newline (the path is kept in Node.ValueFile);
//   - $key references inside unquoted values, expanded at parse time to the
//     value set so far in the current section, then its ancestors, then the
//     default supplied by Options.Default; $ENV:NAME reads Options.Getenv;
//   - "..." and '...' quoted values and section names, a backslash inside
//     quotes escaping the next character;
//   - a trailing backslash continuing a line, # comments outside quotes.
//
// Deliberate deviation: Dovecot's doveconf without -x leaves $var references
// to other settings unexpanded in its output; this package always expands
// them, as Dovecot does when it runs.
//
// All file access goes through the FS interface so tests and fuzzing never
// touch the real filesystem.
package config
