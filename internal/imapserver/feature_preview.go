package imapserver

// PREVIEW (RFC 8970) and Dovecot 2.3's older forms PREVIEW=FUZZY and
// SNIPPET=FUZZY (draft-ietf-extra-imap-fetch-preview). The text is
// message.Snippet, computed when a message is saved and kept in the field
// cache (FieldPreview).

import (
	"context"
	"strconv"
	"strings"

	"roost/internal/imapwire"
	"roost/internal/message"
	"roost/internal/storage"
)

// FieldPreview is the cached preview text of a message (RFC 8970),
// Dovecot's snippet, unencoded.
const FieldPreview = "imap.preview"

// previewMaxEscapes is how many characters needing a backslash a quoted
// preview may hold; Dovecot sends a literal beyond that.
const previewMaxEscapes = 4

// previewOpts are the modifiers of one PREVIEW or SNIPPET fetch item.
type previewOpts struct {
	snippet bool // SNIPPET: answered as SNIPPET (FUZZY ...)
	fuzzy   bool // PREVIEW (FUZZY): answered as PREVIEW (FUZZY ...)
	lazy    bool // LAZY: NIL unless the preview is in the cache
}

// parsePreview parses the optional modifier list after PREVIEW or
// SNIPPET (name). RFC 8970 section 3.2 has PREVIEW and PREVIEW (LAZY);
// the draft Dovecot also answers has FUZZY and LAZY=FUZZY, and SNIPPET is
// always FUZZY.
func (req *fetchRequest) parsePreview(d *imapwire.Decoder, name string) error {
	it := fetchItem{kind: fetchPreview, label: name, preview: previewOpts{snippet: name == "SNIPPET"}}
	it.preview.fuzzy = it.preview.snippet
	if b, _ := d.Reader().Peek(2); string(b) == " (" {
		d.SP()
		d.Special('(')
		if d.Special(')') {
			return fetchError("FETCH list contains non-atoms.")
		}
		for {
			var mod string
			if !d.Atom(&mod) {
				if d.Err() != nil {
					return d.Err()
				}
				return fetchError("FETCH list contains non-atoms.")
			}
			switch strings.ToUpper(mod) {
			case "LAZY":
				it.preview.lazy = true
			case "FUZZY":
				it.preview.fuzzy = true
			case "LAZY=FUZZY":
				it.preview.lazy, it.preview.fuzzy = true, true
			default:
				return fetchError("'" + mod + "' is not a supported " + name + " modifier.")
			}
			if d.Special(')') {
				break
			}
			if !d.SP() {
				if d.Err() != nil {
					return d.Err()
				}
				return fetchError("FETCH list contains non-atoms.")
			}
		}
	}
	req.add(it)
	return nil
}

// preview prepares the value of a PREVIEW or SNIPPET item.
func (f *fetcher) preview(ctx context.Context, md *msgData, it *fetchItem) (itemValue, error) {
	text, ok, err := md.preview(ctx, it.preview.lazy)
	if err != nil {
		return itemValue{}, err
	}
	var raw []byte
	if it.preview.fuzzy {
		raw = append(raw, "(FUZZY "...)
	}
	raw = appendPreviewText(raw, text, ok)
	if it.preview.fuzzy {
		raw = append(raw, ')')
	}
	return itemValue{name: it.label, raw: raw}, nil
}

// preview returns the message's preview text from the field cache,
// computing it when it is not cached unless lazy is set (RFC 8970
// section 3.2: then ok is false and the answer NIL).
func (m *msgData) preview(ctx context.Context, lazy bool) (string, bool, error) {
	b, err := m.mb.Field(ctx, m.uid, FieldPreview)
	if err == nil {
		return string(b), true, nil
	}
	if storage.KindOf(err) != storage.KindNotFound {
		return "", false, err
	}
	if lazy {
		return "", false, nil
	}
	root, data, err := m.parsed(ctx)
	if err != nil {
		return "", false, err
	}
	return message.Snippet(data, root), true, nil
}

// appendPreviewText appends the preview as Dovecot writes it: a quoted
// string when it is printable ASCII with at most previewMaxEscapes '"'
// and '\' (escaped), a literal otherwise, NIL when ok is false.
func appendPreviewText(dst []byte, text string, ok bool) []byte {
	if !ok {
		return append(dst, "NIL"...)
	}
	escapes := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '"' || c == '\\' {
			escapes++
		}
		if c < 0x20 || c > 0x7e || escapes > previewMaxEscapes {
			dst = append(dst, '{')
			dst = strconv.AppendInt(dst, int64(len(text)), 10)
			dst = append(dst, "}\r\n"...)
			return append(dst, text...)
		}
	}
	dst = append(dst, '"')
	for i := 0; i < len(text); i++ {
		if text[i] == '"' || text[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, text[i])
	}
	return append(dst, '"')
}
