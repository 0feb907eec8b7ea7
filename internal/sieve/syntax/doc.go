// Package syntax implements the lexical and grammatical layer of Sieve
// (RFC 5228 section 2 and section 8): a lexer and a recursive-descent parser
// that turn a script into an AST whose every node carries its line and
// column. It knows no command, test or extension; validation is the job of
// package sieve.
//
// Error messages follow Pigeonhole's wording where its test suite matches
// on them ("expected end of command ';' or the beginning of a compound
// block '{', but found '}'"). Limits (identifier length, argument count,
// block and test nesting, string size) are the named constants below, with
// Pigeonhole's values.
//
// Deviations: none known in accepted input. Pigeonhole's error recovery is
// approximated, so the number of errors reported for a badly broken script
// may differ.
package syntax
