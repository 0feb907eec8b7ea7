package imap

import (
	"strconv"
	"strings"

	"roost/internal/message"
)

const defaultCharset = "us-ascii"

// BodyStructure returns the BODYSTRUCTURE (extended) or BODY (not extended)
// of a part (RFC 3501 section 7.4.2) without the outer parentheses,
// byte-identical to Dovecot 2.3: text parts get ("charset" "us-ascii") when
// they name no charset, the encoding defaults to "7bit", sizes are virtual
// (CRLF) sizes and text/* and message/rfc822 parts carry line counts.
func BodyStructure(part *message.Part, extended bool) []byte {
	return AppendBodyStructure(nil, part, extended)
}

// AppendBodyStructure appends BodyStructure(part, extended) to dst.
func AppendBodyStructure(dst []byte, part *message.Part, extended bool) []byte {
	if part.Parent == nil && isPlain7bit(part) {
		// Dovecot caches such messages as "plain 7bit" and answers
		// with its default text/plain structure.
		dst = append(dst, `"text" "plain" ("charset" "us-ascii") NIL NIL "7bit" `...)
		dst = strconv.AppendInt(dst, part.Body.Virtual, 10)
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, part.Body.Lines, 10)
		if extended {
			dst = append(dst, " NIL NIL NIL NIL"...)
		}
		return dst
	}
	if part.Flags&message.FlagMultipart != 0 {
		return appendMultipart(dst, part, extended)
	}
	return appendLeaf(dst, part, extended)
}

func appendMultipart(dst []byte, part *message.Part, extended bool) []byte {
	c := &part.Content
	if len(part.Children) == 0 {
		// a multipart without parts is not allowed; Dovecot writes one
		// empty text/plain part
		dst = append(dst, `("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0`...)
		if extended {
			dst = append(dst, " NIL NIL NIL NIL"...)
		}
		dst = append(dst, ')')
	}
	for _, child := range part.Children {
		dst = append(dst, '(')
		dst = AppendBodyStructure(dst, child, extended)
		dst = append(dst, ')')
	}
	dst = append(dst, ' ')
	dst = AppendString(dst, deref(c.Subtype))
	if !extended {
		return dst
	}
	dst = append(dst, ' ')
	dst = appendParams(dst, c.Params, false)
	return appendCommonExtension(dst, c)
}

func appendLeaf(dst []byte, part *message.Part, extended bool) []byte {
	c := &part.Content
	text := false
	switch {
	case part.Flags&message.FlagMessageRFC822 != 0:
		dst = append(dst, `"message" "rfc822"`...)
	case isTruncated(part):
		dst = append(dst, `"application" "octet-stream"`...)
	case c.Type == nil:
		text = true
		dst = append(dst, `"text" "plain"`...)
	default:
		text = strings.EqualFold(cut(*c.Type), "text")
		dst = AppendString(dst, *c.Type)
		dst = append(dst, ' ')
		dst = AppendString(dst, deref(c.Subtype))
	}
	dst = append(dst, ' ')
	dst = appendParams(dst, c.Params, text)
	dst = append(dst, ' ')
	dst = AppendNStringNoLF(dst, c.ID)
	dst = append(dst, ' ')
	dst = AppendNStringNoLF(dst, c.Description)
	dst = append(dst, ' ')
	if c.TransferEncoding != nil {
		dst = AppendString(dst, *c.TransferEncoding)
	} else {
		dst = append(dst, `"7bit"`...)
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, part.Body.Virtual, 10)
	if text {
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, part.Body.Lines, 10)
	} else if part.Flags&message.FlagMessageRFC822 != 0 && len(part.Children) > 0 {
		child := part.Children[0]
		dst = append(dst, " ("...)
		dst = AppendEnvelope(dst, child.Envelope)
		dst = append(dst, ") ("...)
		dst = AppendBodyStructure(dst, child, extended)
		dst = append(dst, ") "...)
		dst = strconv.AppendInt(dst, part.Body.Lines, 10)
	}
	if !extended {
		return dst
	}
	dst = append(dst, ' ')
	dst = AppendNStringNoLF(dst, c.MD5)
	return appendCommonExtension(dst, c)
}

// isPlain7bit mirrors Dovecot's message_part_data_is_plain_7bit: a single
// text/plain part whose only meaningful parameter is charset=us-ascii (only
// the first parameter is looked at) and that has no other Content-* header
// but a 7bit transfer encoding.
func isPlain7bit(part *message.Part) bool {
	c := &part.Content
	if part.Flags&message.FlagText == 0 || len(part.Children) > 0 {
		return false
	}
	if c.Subtype != nil && !strings.EqualFold(cut(*c.Subtype), "plain") {
		return false
	}
	if len(c.Params) > 1 || len(c.Params) == 1 && (!strings.EqualFold(cut(c.Params[0].Name), "charset") ||
		!strings.EqualFold(cut(c.Params[0].Value), defaultCharset)) {
		return false
	}
	if c.ID != nil || c.Description != nil {
		return false
	}
	if c.TransferEncoding != nil && !strings.EqualFold(*c.TransferEncoding, "7bit") {
		return false
	}
	return c.MD5 == nil && c.Disposition == nil && c.Language == nil && c.Location == nil
}

// isTruncated reports a part that says multipart or message/rfc822 but was
// not parsed as one (nesting limits); Dovecot shows it as
// application/octet-stream rather than text/plain.
func isTruncated(part *message.Part) bool {
	c := &part.Content
	if c.Type != nil {
		t, s := cut(*c.Type), cut(deref(c.Subtype))
		return (strings.EqualFold(t, "message") && strings.EqualFold(s, "rfc822")) ||
			strings.EqualFold(t, "multipart")
	}
	return part.Parent != nil && part.Parent.Flags&message.FlagMultipartDigest != 0
}

func appendCommonExtension(dst []byte, c *message.Content) []byte {
	dst = append(dst, ' ')
	if c.Disposition == nil {
		dst = append(dst, "NIL"...)
	} else {
		dst = append(dst, '(')
		dst = AppendString(dst, *c.Disposition)
		dst = append(dst, ' ')
		dst = appendParams(dst, c.DispositionParams, false)
		dst = append(dst, ')')
	}
	dst = append(dst, ' ')
	if c.Language == nil {
		dst = append(dst, "NIL"...)
	} else {
		dst = append(dst, '(')
		for i, l := range c.Language {
			if i > 0 {
				dst = append(dst, ' ')
			}
			dst = AppendString(dst, l)
		}
		dst = append(dst, ')')
	}
	dst = append(dst, ' ')
	return AppendNStringNoLF(dst, c.Location)
}

func appendParams(dst []byte, params []message.Param, defaultCharsetFor bool) []byte {
	if !defaultCharsetFor && len(params) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	seen := false
	for i, p := range params {
		if i > 0 {
			dst = append(dst, ' ')
		}
		if defaultCharsetFor && strings.EqualFold(cut(p.Name), "charset") {
			seen = true
		}
		dst = AppendString(dst, p.Name)
		dst = append(dst, ' ')
		dst = AppendString(dst, p.Value)
	}
	if defaultCharsetFor && !seen {
		if len(params) > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, `"charset" "`+defaultCharset+`"`...)
	}
	return append(dst, ')')
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
