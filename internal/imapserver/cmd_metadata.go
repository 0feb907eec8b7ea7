package imapserver

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"

	"roost/internal/imapwire"
	"roost/internal/storage"
)

// METADATA (RFC 5464) over storage.MetadataStore: GETMETADATA and
// SETMETADATA for mailbox entries and, with mailbox "", server entries.
// Wording and quirks follow Dovecot 2.3 with imap_metadata = yes: values
// are always sent as literals, an entry asked for without DEPTH that does
// not exist is answered with NIL, and a response with no entries is left
// out. Entries found by DEPTH are sent in name order (Dovecot: dict order).

// Limits of SETMETADATA (RFC 5464 section 4.3): the largest value, and
// the most entries one mailbox (or the server) may hold.
const (
	maxMetadataValue   = 1 << 20
	maxMetadataEntries = 1000
)

// metadataStore returns the user's MetadataStore, nil if the driver has
// none (METADATA is then not advertised).
func (c *conn) metadataStore() storage.MetadataStore {
	ms, _ := c.user.(storage.MetadataStore)
	return ms
}

// metadataCaps are the capabilities METADATA adds after login. Like
// Dovecot, "METADATA" alone: it includes server entries (RFC 5464 section
// 1), so METADATA-SERVER is not listed beside it.
func (c *conn) metadataCaps() []string {
	if c.metadataStore() == nil {
		return nil
	}
	return []string{"METADATA"}
}

// getMetadataOpts are GETMETADATA's options (RFC 5464 section 4.2).
type getMetadataOpts struct {
	maxSize int64 // -1: none
	depth   int   // 0, 1 or -1 (infinity)
}

// cmdGetMetadata is GETMETADATA (RFC 5464 section 4.2).
func cmdGetMetadata(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	opts := getMetadataOpts{maxSize: -1}
	var box string
	var names []string
	if !dec.ExpectSP() || !getMetadataOptions(dec, &opts) || !dec.ExpectMailbox(&box) ||
		!dec.ExpectSP() || !metadataEntryNames(dec, &names) || !cmd.end() {
		return dec.Err()
	}
	ms := c.metadataStore()
	if ms == nil {
		return no("", "METADATA is not supported.")
	}
	all, err := ms.GetMetadata(ctx, box)
	if err != nil {
		return c.lookupError("getmetadata "+box, err)
	}
	var out []storage.MetadataEntry
	var longest int64
	for _, name := range names {
		for _, e := range selectMetadata(all, name, opts.depth) {
			if opts.maxSize >= 0 && e.Value != nil && int64(len(e.Value)) > opts.maxSize {
				longest = max(longest, int64(len(e.Value)))
				continue
			}
			out = append(out, e)
		}
	}
	if len(out) > 0 {
		writeMetadata(c.untagged(), box, out)
	}
	if longest > 0 {
		cmd.okCode = "METADATA LONGENTRIES " + strconv.FormatInt(longest, 10)
	}
	return nil
}

// selectMetadata returns the entries of all (sorted) that name and depth
// select: the entry itself (nil Value, NIL on the wire, when it does not
// exist and depth is 0) and its descendants up to depth levels down.
func selectMetadata(all []storage.MetadataEntry, name string, depth int) []storage.MetadataEntry {
	var out []storage.MetadataEntry
	found := false
	for _, e := range all {
		if e.Name == name {
			out = append(out, e)
			found = true
			continue
		}
		rest, ok := strings.CutPrefix(e.Name, name+"/")
		if !ok || depth == 0 || depth == 1 && strings.Contains(rest, "/") {
			continue
		}
		out = append(out, e)
	}
	if !found && depth == 0 {
		out = append(out, storage.MetadataEntry{Name: name})
	}
	return out
}

// writeMetadata writes "* METADATA mailbox (entry value ...)", values as
// literals (Dovecot's form).
func writeMetadata(enc *imapwire.Encoder, box string, entries []storage.MetadataEntry) {
	enc.Atom("METADATA").SP().Mailbox(box).SP().Special('(')
	for i, e := range entries {
		if i > 0 {
			enc.SP()
		}
		enc.AString(e.Name).SP()
		switch {
		case e.Value == nil:
			enc.NIL()
		case bytes.IndexByte(e.Value, 0) >= 0:
			enc.Raw([]byte("~")).Literal(e.Value) // literal8 (RFC 5464 section 5)
		default:
			enc.Literal(e.Value)
		}
	}
	enc.Special(')').CRLF()
}

// getMetadataOptions reads an optional "(" option *(SP option) ")" SP.
func getMetadataOptions(dec *imapwire.Decoder, opts *getMetadataOpts) bool {
	ok := dec.List(func() bool {
		var name string
		if !dec.ExpectAtom(&name) || !dec.ExpectSP() {
			return false
		}
		switch strings.ToUpper(name) {
		case "MAXSIZE":
			var n uint32
			if !dec.Number(&n) {
				return dec.Fail("Invalid value for MAXSIZE option")
			}
			opts.maxSize = int64(n)
		case "DEPTH":
			var v string
			if !dec.Atom(&v) {
				return dec.Fail("Invalid value for DEPTH option")
			}
			switch strings.ToLower(v) {
			case "0":
				opts.depth = 0
			case "1":
				opts.depth = 1
			case "infinity":
				opts.depth = -1
			default:
				return dec.Fail("Invalid value for DEPTH option")
			}
		default:
			return dec.Fail("Unknown option")
		}
		return true
	})
	if dec.Err() != nil {
		return false
	}
	return !ok || dec.ExpectSP()
}

// metadataEntryNames reads entry / "(" entry *(SP entry) ")", checking
// and lower-casing each name.
func metadataEntryNames(dec *imapwire.Decoder, names *[]string) bool {
	one := func() bool {
		var n string
		if !dec.ExpectAString(&n) {
			return false
		}
		if msg := checkEntryName(n); msg != "" {
			return dec.Fail(msg)
		}
		*names = append(*names, strings.ToLower(n))
		return true
	}
	if dec.Special('(') {
		if dec.Special(')') {
			return true
		}
		for {
			if !one() {
				return false
			}
			if dec.Special(')') {
				return true
			}
			if !dec.ExpectSP() {
				return false
			}
		}
	}
	return one()
}

// checkEntryName returns why name is not a valid entry name (RFC 5464
// section 3.2), "" if it is; Dovecot's wording.
func checkEntryName(name string) string {
	if !strings.HasPrefix(name, "/") {
		return "Entry name must begin with '/'"
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c < 0x20:
			return "Entry name can't contain control chars"
		case c >= 0x7f:
			return "Entry name can't contain non-ASCII characters"
		case c == '*':
			return "Entry name can't contain '*'"
		case c == '%':
			return "Entry name can't contain '%'"
		case c == '/' && i > 0 && name[i-1] == '/':
			return "Entry name can't contain consecutive '/'"
		case c == '/' && i == len(name)-1:
			return "Entry name can't end with '/'"
		}
	}
	l := strings.ToLower(name)
	if l != "/private" && l != "/shared" && !strings.HasPrefix(l, "/private/") && !strings.HasPrefix(l, "/shared/") {
		return "Entry name must begin with /private or /shared"
	}
	return ""
}

// checkInternalEntries refuses to set Dovecot's internal entries (below
// vendor/vendor.dovecot/pvt, where server entries are kept), as Dovecot
// does; reading them finds nothing.
func checkInternalEntries(names []string) error {
	for _, n := range names {
		for _, p := range []string{"/private/vendor/vendor.dovecot/pvt", "/shared/vendor/vendor.dovecot/pvt"} {
			if n == p || strings.HasPrefix(n, p+"/") {
				return no("CANNOT", "Internal mailbox attributes cannot be accessed")
			}
		}
	}
	return nil
}

// cmdSetMetadata is SETMETADATA (RFC 5464 section 4.3): all entries or
// none.
func cmdSetMetadata(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var box string
	var entries []storage.MetadataEntry
	if !dec.ExpectSP() || !dec.ExpectMailbox(&box) || !dec.ExpectSP() {
		return dec.Err()
	}
	if err := metadataEntryValues(dec, &entries); err != nil {
		return err
	}
	if !cmd.end() {
		return dec.Err()
	}
	ms := c.metadataStore()
	if ms == nil {
		return no("", "METADATA is not supported.")
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	if err := checkInternalEntries(names); err != nil {
		return err
	}
	for _, e := range entries {
		if len(e.Value) > maxMetadataValue {
			return no("METADATA MAXSIZE "+strconv.Itoa(maxMetadataValue), "Metadata entry is too large.")
		}
	}
	if len(entries) == 0 {
		return nil
	}
	if err := checkMetadataCount(ctx, ms, box, entries); err != nil {
		return c.metadataError(box, err)
	}
	if err := ms.SetMetadata(ctx, box, entries); err != nil {
		return c.metadataError(box, err)
	}
	return nil
}

// checkMetadataCount refuses a SETMETADATA that would leave more than
// maxMetadataEntries entries ([METADATA TOOMANY]).
func checkMetadataCount(ctx context.Context, ms storage.MetadataStore, box string, entries []storage.MetadataEntry) error {
	cur, err := ms.GetMetadata(ctx, box)
	if err != nil {
		return err
	}
	have := make(map[string]bool, len(cur))
	for _, e := range cur {
		have[e.Name] = true
	}
	for _, e := range entries {
		have[e.Name] = e.Value != nil
	}
	n := 0
	for _, ok := range have {
		if ok {
			n++
		}
	}
	if n > maxMetadataEntries {
		return no("METADATA TOOMANY", "Too many metadata entries.")
	}
	return nil
}

func (c *conn) metadataError(box string, err error) error {
	return c.lookupError("setmetadata "+box, err)
}

// metadataEntryValues reads "(" [entry SP value *(SP entry SP value)] ")";
// a value is a string, a literal, a literal8 or NIL (remove). A value over
// maxMetadataValue is refused before its synchronising literal is sent.
func metadataEntryValues(dec *imapwire.Decoder, entries *[]storage.MetadataEntry) error {
	if !dec.ExpectSpecial('(') {
		return dec.Err()
	}
	if dec.Special(')') {
		return nil
	}
	for {
		var name string
		if !dec.ExpectAString(&name) {
			return dec.Err()
		}
		if msg := checkEntryName(name); msg != "" {
			dec.Fail(msg)
			return dec.Err()
		}
		if !dec.SP() {
			dec.Fail("Entry value missing")
			return dec.Err()
		}
		e := storage.MetadataEntry{Name: strings.ToLower(name)}
		if err := metadataValue(dec, &e); err != nil {
			return err
		}
		*entries = append(*entries, e)
		if dec.Special(')') {
			return nil
		}
		if !dec.ExpectSP() {
			return dec.Err()
		}
		if dec.Special(')') {
			return nil // Dovecot takes "value )" too
		}
	}
}

// metadataValue reads one value into e.Value (nil for NIL).
func metadataValue(dec *imapwire.Decoder, e *storage.MetadataEntry) error {
	var lit imapwire.LiteralInfo
	if !dec.Literal8Header(&lit) {
		if dec.Err() != nil {
			return dec.Err()
		}
		var v string
		var ok bool
		if !dec.ExpectNString(&v, &ok) {
			return dec.Err()
		}
		if ok {
			e.Value = []byte(v)
		}
		return nil
	}
	if lit.Size > maxMetadataValue {
		if lit.NonSync {
			return imapwire.ErrLiteralTooLarge // the data is on its way: disconnect
		}
		return no("METADATA MAXSIZE "+strconv.Itoa(maxMetadataValue), "Metadata entry is too large.")
	}
	body, err := dec.LiteralBody(lit)
	if err != nil {
		return err
	}
	e.Value = make([]byte, lit.Size)
	if _, err := io.ReadFull(body, e.Value); err != nil {
		return err
	}
	return dec.Err()
}
