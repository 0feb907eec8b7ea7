package sieve

import (
	"context"
	"strings"
	"unicode/utf8"
)

// mboxmetadata and servermetadata (RFC 5490 section 3 and 4): tests that
// read IMAP METADATA (RFC 5464) entries through Env.Metadata. As in
// Pigeonhole they are not enabled by default. An invalid entry name or
// mailbox name, a missing mailbox or entry, or no Env.Metadata make the
// test false; they are not run-time errors.

// Metadata reads METADATA entries; mailbox "" is the server. ok is false
// when the mailbox or the entry does not exist.
type Metadata interface {
	Metadata(ctx context.Context, mailbox, name string) (value string, ok bool, err error)
}

func metadataSpecs() []*spec {
	return []*spec{
		{name: "metadata", ext: "mboxmetadata", test: true, tags: addTags(nil, "comparator", "match"),
			pos:  []posDef{{aString, "mailbox"}, {aString, "annotation-name"}, {aStringList, "key-list"}},
			eval: evalMetadata},
		{name: "metadataexists", ext: "mboxmetadata", test: true,
			pos:  []posDef{{aString, "mailbox"}, {aStringList, "annotation-names"}},
			eval: evalMetadataExists},
		{name: "servermetadata", ext: "servermetadata", test: true, tags: addTags(nil, "comparator", "match"),
			pos:  []posDef{{aString, "annotation-name"}, {aStringList, "key-list"}},
			eval: evalServerMetadata},
		{name: "servermetadataexists", ext: "servermetadata", test: true,
			pos:  []posDef{{aStringList, "annotation-names"}},
			eval: evalServerMetadataExists},
	}
}

// validEntryName is an RFC 5464 entry name under /private or /shared.
func validEntryName(s string) bool {
	ls := strings.ToLower(s)
	if !strings.HasPrefix(ls, "/private/") && !strings.HasPrefix(ls, "/shared/") {
		return false
	}
	if strings.HasSuffix(s, "/") || strings.Contains(s, "//") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '*' || c == '%' {
			return false
		}
	}
	return true
}

// metadataValue reads one entry; ok false for anything that is not there.
func (r *runner) metadataValue(n *node, mailbox, name string) (string, bool, error) {
	if r.env.Metadata == nil || !validEntryName(name) || !utf8.ValidString(mailbox) {
		return "", false, nil
	}
	v, ok, err := r.env.Metadata.Metadata(r.ctx, mailbox, strings.ToLower(name))
	if err != nil {
		return "", false, r.errorf(n, "%s test: failed to read annotation '%s': %v", n.spec.name, name, err)
	}
	return v, ok, nil
}

func evalMetadata(r *runner, n *node) (bool, error) {
	v, ok, err := r.metadataValue(n, r.pstr(n, 0), r.pstr(n, 1))
	if err != nil || !ok {
		return false, err
	}
	return r.matchKeys(n, []string{v}, n.pos[2])
}

func evalServerMetadata(r *runner, n *node) (bool, error) {
	v, ok, err := r.metadataValue(n, "", r.pstr(n, 0))
	if err != nil || !ok {
		return false, err
	}
	return r.matchKeys(n, []string{v}, n.pos[1])
}

// allExist reports whether every entry exists.
func (r *runner) allExist(n *node, mailbox string, names []string) (bool, error) {
	for _, name := range names {
		_, ok, err := r.metadataValue(n, mailbox, name)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func evalMetadataExists(r *runner, n *node) (bool, error) {
	return r.allExist(n, r.pstr(n, 0), r.strs(n.pos[1]))
}

func evalServerMetadataExists(r *runner, n *node) (bool, error) {
	return r.allExist(n, "", r.strs(n.pos[0]))
}

// MemMetadata is the in-memory Metadata: entries by mailbox ("" the
// server) and lower-case entry name.
type MemMetadata map[string]map[string]string

// Set stores an entry.
func (m MemMetadata) Set(mailbox, name, value string) {
	if m[mailbox] == nil {
		m[mailbox] = map[string]string{}
	}
	m[mailbox][strings.ToLower(name)] = value
}

// Metadata implements Metadata.
func (m MemMetadata) Metadata(_ context.Context, mailbox, name string) (string, bool, error) {
	v, ok := m[mailbox][name]
	return v, ok, nil
}
