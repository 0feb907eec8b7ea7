package sieve

import "roost/internal/sieve/syntax"

type argType int

const (
	aNone argType = iota
	aString
	aStringList // a string or a string list
	aNumber
)

func (a argType) describe() string {
	switch a {
	case aString:
		return "a string"
	case aStringList:
		return "a string list"
	case aNumber:
		return "a number"
	}
	return "nothing"
}

func argDescribe(a *syntax.Arg) string {
	switch a.Kind {
	case syntax.ArgTag:
		return "a tagged argument ':" + a.Tag + "'"
	case syntax.ArgNumber:
		return "a number"
	case syntax.ArgString:
		return "a string"
	}
	return "a string list"
}

// tagDef is a tagged argument a command accepts.
type tagDef struct {
	param argType
	group string // tags of one group exclude each other
	ext   string // extension that must be required ("" = none beyond the command's)
}

// posDef is one positional argument.
type posDef struct {
	typ  argType
	name string
}

// spec defines a command or test.
type spec struct {
	name     string
	test     bool
	ext      string
	tags     map[string]tagDef
	pos      []posDef
	optional int  // trailing positional arguments that may be absent
	block    bool // takes (and requires) a block
	subtests int  // 0 none, 1 exactly one, -1 a test list
	check    func(v *validator, n *node)
	run      func(r *runner, n *node) error
	eval     func(r *runner, n *node) (bool, error)
}

func (s *spec) kind() string {
	if s.test {
		return "test"
	}
	return "command"
}

// Tag groups shared by many tests.
func addTags(dst map[string]tagDef, groups ...string) map[string]tagDef {
	if dst == nil {
		dst = map[string]tagDef{}
	}
	for _, g := range groups {
		switch g {
		case "comparator":
			dst["comparator"] = tagDef{param: aString, group: "comparator"}
		case "match":
			dst["is"] = tagDef{group: "match"}
			dst["contains"] = tagDef{group: "match"}
			dst["matches"] = tagDef{group: "match"}
			dst["regex"] = tagDef{group: "match", ext: "regex"}
			dst["count"] = tagDef{param: aString, group: "match", ext: "relational"}
			dst["value"] = tagDef{param: aString, group: "match", ext: "relational"}
			dst["list"] = tagDef{group: "match", ext: "extlists"}
		case "addrpart":
			dst["all"] = tagDef{group: "addrpart"}
			dst["localpart"] = tagDef{group: "addrpart"}
			dst["domain"] = tagDef{group: "addrpart"}
			dst["user"] = tagDef{group: "addrpart", ext: "subaddress"}
			dst["detail"] = tagDef{group: "addrpart", ext: "subaddress"}
		case "index":
			dst["index"] = tagDef{param: aNumber, ext: "index"}
			dst["last"] = tagDef{ext: "index"}
		case "mime":
			dst["mime"] = tagDef{ext: "mime"}
			dst["anychild"] = tagDef{ext: "mime"}
		case "mimeopts":
			dst["type"] = tagDef{group: "mimeopt", ext: "mime"}
			dst["subtype"] = tagDef{group: "mimeopt", ext: "mime"}
			dst["contenttype"] = tagDef{group: "mimeopt", ext: "mime"}
			dst["param"] = tagDef{param: aStringList, group: "mimeopt", ext: "mime"}
		case "store":
			dst["flags"] = tagDef{param: aStringList, ext: "imap4flags"}
		case "copy":
			dst["copy"] = tagDef{ext: "copy"}
		}
	}
	return dst
}

// capabilities lists every extension the runtime implements.
var capabilities = []string{
	"fileinto", "reject", "ereject", "envelope", "encoded-character", "vacation", "vacation-seconds",
	"subaddress", "comparator-i;ascii-numeric", "relational", "regex", "imap4flags", "copy", "include",
	"body", "variables", "enotify", "environment", "mailbox", "date", "index", "ihave", "duplicate",
	"mime", "foreverypart", "extracttext", "editheader", "spamtest", "spamtestplus", "virustest",
	"special-use", "imapsieve", "comparator-i;octet", "comparator-i;ascii-casemap",
}

// DefaultExtensions are the extensions Pigeonhole enables when
// sieve_extensions is not set.
var DefaultExtensions = []string{
	"fileinto", "reject", "envelope", "encoded-character", "vacation", "subaddress",
	"comparator-i;ascii-numeric", "relational", "regex", "imap4flags", "copy", "include", "body",
	"variables", "enotify", "environment", "mailbox", "date", "index", "ihave", "duplicate",
	"mime", "foreverypart", "extracttext",
}

// Capabilities returns every extension name this runtime implements, for
// ManageSieve's SIEVE capability and for sieve_extensions validation.
func Capabilities() []string { return append([]string(nil), capabilities...) }

// extraCapabilities are implemented but, as in Pigeonhole, never
// advertised nor enabled unless sieve_extensions names them.
var extraCapabilities = append(append([]string{"vnd.dovecot.debug"}, extprogramsCapabilities...), vndCapabilities...)

func implemented(ext string) bool {
	for _, c := range append(capabilities, extraCapabilities...) {
		if c == ext {
			return true
		}
	}
	return false
}

// specs returns the command and test table, keyed by kind and name.
func specs() map[string]*spec {
	m := map[string]*spec{}
	for _, s := range coreSpecs() {
		m[key(s.test, s.name)] = s
	}
	for _, s := range extSpecs() {
		m[key(s.test, s.name)] = s
	}
	return m
}

func key(test bool, name string) string {
	if test {
		return "t:" + name
	}
	return "c:" + name
}
