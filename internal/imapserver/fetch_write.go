package imapserver

import (
	"context"
	"io"
	"slices"
	"strconv"
	"time"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// fetcher writes FETCH responses for one command.
type fetcher struct {
	mb       storage.Mailbox
	enc      *imapwire.Encoder
	req      *fetchRequest
	keywords []string       // the mailbox's keywords, in Dovecot's order
	loc      *time.Location // zone INTERNALDATE is shown in (Dovecot: the server's)
	noRecent bool           // IMAP4rev2: FLAGS without \Recent
	// expungeIssued records that an item of a message expunged under us
	// was answered with NIL ([EXPUNGEISSUED] in the tagged OK).
	expungeIssued bool
	streamed      int64 // literal bytes written since the last flush

	// simple is set when every item comes from the index record (UID,
	// FLAGS, INTERNALDATE, RFC822.SIZE, MODSEQ, SAVEDATE): lines are
	// then built in line without opening the message, and written in
	// batches (flushLines).
	simple bool
	line   []byte
	flags  []flagsMemo // encoded flag lists seen in this command
}

// flagsMemo is one encoded flag list: messages mostly share a few flag
// sets, so FLAGS is encoded once per set, not once per message.
type flagsMemo struct {
	flags  []string
	recent bool
	enc    []byte
}

// maxFlagsMemo bounds fetcher.flags.
const maxFlagsMemo = 16

// itemValue is one prepared item: either small pre-encoded bytes or a
// literal streamed from the message.
type itemValue struct {
	name    string
	raw     []byte    // pre-encoded value, written as is
	lit     io.Reader // literal data
	litSize int64
	literal bool
	lit8    bool // literal8 ("~{n}", RFC 3516): BINARY content with NULs
}

// flagList returns a message's flags in Dovecot's order: system flags,
// \Recent, then keywords in the mailbox's keyword order.
func flagList(m storage.Message, keywords []string) []string {
	out := make([]string, 0, len(m.Flags)+1)
	for _, f := range imap.SystemFlags {
		if slices.Contains(m.Flags, f) {
			out = append(out, f)
		}
	}
	if m.Recent {
		out = append(out, imap.FlagRecent)
	}
	for _, k := range keywords {
		if slices.Contains(m.Flags, k) {
			out = append(out, k)
		}
	}
	for _, f := range m.Flags { // keywords the view has not announced yet
		if !imap.IsSystemFlag(f) && !slices.Contains(keywords, f) {
			out = append(out, f)
		}
	}
	return out
}

// appendFlags appends "(flag flag ...)"; flags are validated atoms.
func appendFlags(dst []byte, flags []string) []byte {
	dst = append(dst, '(')
	for i, f := range flags {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, f...)
	}
	return append(dst, ')')
}

// writeMessage writes one "* seq FETCH (...)" line. seenChanged reports
// that this command just set \Seen on the message. Values are prepared
// before the first byte is written so that a message expunged under us
// gets Dovecot's NIL replies instead of a broken line. An error returned
// after writing began means the connection must be closed.
func (f *fetcher) writeMessage(ctx context.Context, seq uint32, msg storage.Message, seenChanged bool) error {
	if f.simple {
		return f.writeSimple(seq, msg, seenChanged)
	}
	md := &msgData{mb: f.mb, uid: msg.UID}
	defer md.close()
	vals := make([]itemValue, 0, len(f.req.items))
	for i := range f.req.items {
		it := &f.req.items[i]
		if it.kind == fetchFlags && f.req.setSeen && !f.req.flags && !seenChanged {
			continue // implicit FLAGS: only where \Seen changed
		}
		v, err := f.prepare(ctx, md, msg, it)
		if st := binaryStatus(err); st != nil {
			// Dovecot sends the items before the failing one, then NO.
			if len(vals) > 0 {
				f.writeLine(seq, vals)
			}
			if err := f.enc.Err(); err != nil {
				return err
			}
			return st
		}
		if err != nil {
			if storage.KindOf(err) != storage.KindExpunged {
				return err
			}
			f.expungeIssued = true
			v = nilValue(it)
		}
		vals = append(vals, v)
	}
	if len(vals) == 0 { // RFC 3501 forbids "FETCH ()"; Dovecot adds the UID
		vals = append(vals, itemValue{name: "UID", raw: strconv.AppendUint(nil, uint64(msg.UID), 10)})
	}
	f.writeLine(seq, vals)
	return f.enc.Err()
}

// writeLine writes "* seq FETCH (...)" with the prepared values.
func (f *fetcher) writeLine(seq uint32, vals []itemValue) {
	f.enc.Star().Number(seq).SP().Atom("FETCH").SP().Special('(')
	for i, v := range vals {
		if i > 0 {
			f.enc.SP()
		}
		f.enc.Raw([]byte(v.name)).SP()
		if v.lit8 {
			f.enc.Raw([]byte("~"))
		}
		switch {
		case v.literal && v.lit != nil:
			f.enc.LiteralFrom(v.lit, v.litSize)
			f.streamed += v.litSize
		case v.literal:
			f.enc.Literal(v.raw)
			f.streamed += int64(len(v.raw))
		default:
			f.enc.Raw(v.raw)
		}
	}
	f.enc.Special(')').CRLF()
}

// nilValue is Dovecot's reply for an item of an expunged message.
func nilValue(it *fetchItem) itemValue {
	switch it.kind {
	case fetchEnvelope:
		return itemValue{name: "ENVELOPE", raw: []byte("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)")}
	case fetchBody:
		return itemValue{name: "BODY", raw: []byte(`("text" "plain" NIL NIL NIL "7bit" 0 0)`)}
	case fetchBodyStructure:
		return itemValue{name: "BODYSTRUCTURE", raw: []byte(`("text" "plain" NIL NIL NIL "7bit" 0 0 NIL NIL NIL NIL)`)}
	case fetchRFC822:
		return itemValue{name: "RFC822", raw: []byte("NIL")}
	case fetchRFC822Header:
		return itemValue{name: "RFC822.HEADER", raw: []byte("NIL")}
	case fetchRFC822Text:
		return itemValue{name: "RFC822.TEXT", raw: []byte("NIL")}
	}
	return itemValue{name: it.label, raw: []byte("NIL")}
}

// prepare computes one item's value.
func (f *fetcher) prepare(ctx context.Context, md *msgData, msg storage.Message, it *fetchItem) (itemValue, error) {
	switch it.kind {
	case fetchUID, fetchFlags, fetchInternalDate, fetchRFC822Size, fetchSaveDate, fetchModSeq:
		name, _ := simpleItemName(it.kind)
		return itemValue{name: name, raw: f.appendSimple(nil, msg, it.kind)}, nil
	case fetchBinarySize:
		b, err := binarySection(ctx, md, it)
		if err != nil {
			return itemValue{}, err
		}
		return itemValue{name: it.label, raw: strconv.AppendInt(nil, int64(len(b)), 10)}, nil
	case fetchPreview:
		return f.preview(ctx, md, it)
	case fetchEnvelope:
		return f.cached(ctx, md, "ENVELOPE", FieldEnvelope)
	case fetchBody:
		return f.cached(ctx, md, "BODY", FieldBody)
	case fetchBodyStructure:
		return f.cached(ctx, md, "BODYSTRUCTURE", FieldBodyStructure)
	case fetchRFC822:
		return f.section(ctx, md, "RFC822", &fetchItem{kind: fetchSection, spec: specFull, count: -1})
	case fetchRFC822Header:
		return f.section(ctx, md, "RFC822.HEADER", &fetchItem{kind: fetchSection, spec: specHeader, count: -1})
	case fetchRFC822Text:
		return f.section(ctx, md, "RFC822.TEXT", &fetchItem{kind: fetchSection, spec: specText, count: -1})
	}
	if it.binary {
		return f.binary(ctx, md, it)
	}
	return f.section(ctx, md, it.label, it)
}

func (f *fetcher) cached(ctx context.Context, md *msgData, name, field string) (itemValue, error) {
	b, err := md.field(ctx, field)
	if err != nil {
		return itemValue{}, err
	}
	raw := make([]byte, 0, len(b)+2)
	raw = append(append(append(raw, '('), b...), ')')
	return itemValue{name: name, raw: raw}, nil
}

// section prepares a body section as a literal streamed from the message.
// The whole message needs no MIME parse.
func (f *fetcher) section(ctx context.Context, md *msgData, name string, it *fetchItem) (itemValue, error) {
	r, err := md.reader(ctx)
	if err != nil {
		return itemValue{}, err
	}
	size := r.Size()
	v := itemValue{name: name, literal: true}
	var sr sectionRange
	if it.spec == specFull && len(it.part) == 0 {
		sr = sectionRange{start: 0, end: size, found: true}
	} else {
		root, data, err := md.parsed(ctx)
		if err != nil {
			return itemValue{}, err
		}
		sr, err = locateSection(root, int64(len(data)), it, func(s, e int64) ([]byte, error) { return data[s:e], nil })
		if err != nil {
			return itemValue{}, err
		}
	}
	switch {
	case !sr.found:
		v.raw = []byte{}
	case sr.useFilter:
		s, e := applyPartial(0, int64(len(sr.filtered)), it)
		v.raw = replaceNULs(sr.filtered[s:e])
	default:
		s, e := applyPartial(sr.start, sr.end, it)
		v.lit, v.litSize = nulReader{io.NewSectionReader(r, s, e-s)}, e-s
	}
	return v, nil
}

func replaceNULs(b []byte) []byte {
	if slices.Index(b, 0) < 0 {
		return b
	}
	out := slices.Clone(b)
	for i, c := range out {
		if c == 0 {
			out[i] = 0x80
		}
	}
	return out
}

// simpleItemName is the name of an item that comes from the index
// record alone; ok is false for other items.
func simpleItemName(kind fetchKind) (name string, ok bool) {
	switch kind {
	case fetchUID:
		return "UID", true
	case fetchFlags:
		return "FLAGS", true
	case fetchInternalDate:
		return "INTERNALDATE", true
	case fetchRFC822Size:
		return "RFC822.SIZE", true
	case fetchSaveDate:
		return "SAVEDATE", true
	case fetchModSeq:
		return "MODSEQ", true
	}
	return "", false
}

// simpleRequest reports whether every item of req comes from the index
// record (simpleItemName).
func simpleRequest(req *fetchRequest) bool {
	for _, it := range req.items {
		if _, ok := simpleItemName(it.kind); !ok {
			return false
		}
	}
	return true
}

// appendSimple appends the value of an item simpleItemName names.
func (f *fetcher) appendSimple(dst []byte, msg storage.Message, kind fetchKind) []byte {
	const dateLayout = "02-Jan-2006 15:04:05 -0700"
	switch kind {
	case fetchUID:
		return strconv.AppendUint(dst, uint64(msg.UID), 10)
	case fetchFlags:
		return f.appendFlagList(dst, msg)
	case fetchInternalDate:
		dst = msg.InternalDate.In(f.loc).AppendFormat(append(dst, '"'), dateLayout)
		return append(dst, '"')
	case fetchRFC822Size:
		return strconv.AppendInt(dst, msg.Size, 10)
	case fetchSaveDate: // RFC 8514: NIL when the store has no save date
		if msg.SaveDate.IsZero() {
			return append(dst, "NIL"...)
		}
		dst = msg.SaveDate.In(f.loc).AppendFormat(append(dst, '"'), dateLayout)
		return append(dst, '"')
	case fetchModSeq:
		dst = strconv.AppendUint(append(dst, '('), msg.ModSeq, 10)
		return append(dst, ')')
	}
	return dst
}

// appendFlagList appends the message's "(flag ...)", from f.flags when
// an earlier message had the same flags.
func (f *fetcher) appendFlagList(dst []byte, msg storage.Message) []byte {
	recent := msg.Recent && !f.noRecent // IMAP4rev2: no \Recent (RFC 9051 appendix E)
	for i := range f.flags {
		if m := &f.flags[i]; m.recent == recent && slices.Equal(m.flags, msg.Flags) {
			return append(dst, m.enc...)
		}
	}
	msg.Recent = recent
	enc := appendFlags(nil, flagList(msg, f.keywords))
	if len(f.flags) < maxFlagsMemo {
		f.flags = append(f.flags, flagsMemo{flags: slices.Clone(msg.Flags), recent: recent, enc: enc})
	}
	return append(dst, enc...)
}

// writeSimple adds the FETCH line of a simple request (f.simple) to the
// lines gathered in f.line: the same line writeMessage would write.
func (f *fetcher) writeSimple(seq uint32, msg storage.Message, seenChanged bool) error {
	b := strconv.AppendUint(append(f.line, "* "...), uint64(seq), 10)
	b = append(b, " FETCH ("...)
	n := 0
	for i := range f.req.items {
		it := &f.req.items[i]
		if it.kind == fetchFlags && f.req.setSeen && !f.req.flags && !seenChanged {
			continue // implicit FLAGS: only where \Seen changed
		}
		if n > 0 {
			b = append(b, ' ')
		}
		n++
		name, _ := simpleItemName(it.kind)
		b = append(append(b, name...), ' ')
		b = f.appendSimple(b, msg, it.kind)
	}
	if n == 0 { // as writeMessage
		b = strconv.AppendUint(append(b, "UID "...), uint64(msg.UID), 10)
	}
	f.line = append(b, ")\r\n"...)
	if len(f.line) >= fetchBatchBytes {
		f.flushLines()
	}
	return f.enc.Err()
}

// fetchBatchBytes is how many bytes of simple FETCH lines are gathered
// before they go to the encoder: a batch larger than the connection's
// buffer is written to the socket in one write.
const fetchBatchBytes = 64 << 10

// flushLines passes the gathered lines of a simple request to the
// encoder; cmdFetch calls it after the last message.
func (f *fetcher) flushLines() {
	if len(f.line) > 0 {
		f.enc.Raw(f.line)
		f.line = f.line[:0]
	}
}
