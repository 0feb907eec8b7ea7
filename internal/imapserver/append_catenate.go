package imapserver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"roost/internal/imapwire"
	"roost/internal/message"
	"roost/internal/storage"
)

// catenate reads "CATENATE (" cat-part *(SP cat-part) ")" (RFC 4469
// section 5) after the keyword and adds the assembled message. A part is
// TEXT with a literal (or literal8) or URL with a relative IMAP URL to one
// of the user's own messages (RFC 5092), optionally with ;PARTIAL=
// (URL-PARTIAL, RFC 5550).
func (ap *appender) catenate(ctx context.Context, dec *imapwire.Decoder, msg storage.AppendMessage) error {
	if !dec.ExpectSP() || !dec.ExpectSpecial('(') {
		return dec.Err()
	}
	if dec.Special(')') {
		return bad("", "Error in IMAP command APPEND: Empty CATENATE list")
	}
	var buf bytes.Buffer
	for {
		if err := ap.catPart(ctx, dec, &buf); err != nil {
			return err
		}
		if int64(buf.Len()) > ap.c.srv.opts.MaxAppendSize {
			return no("TOOBIG", "Mail size is larger than the maximum size allowed by server configuration")
		}
		if dec.Special(')') {
			break
		}
		if !dec.ExpectSP() {
			return dec.Err()
		}
	}
	msg.Body, msg.Size = bytes.NewReader(buf.Bytes()), int64(buf.Len())
	return ap.add(ctx, dec, msg)
}

// catPart reads one TEXT or URL part and appends its data to buf.
func (ap *appender) catPart(ctx context.Context, dec *imapwire.Decoder, buf *bytes.Buffer) error {
	var kw string
	if !dec.Atom(&kw) || !dec.SP() {
		if dec.Err() != nil {
			return dec.Err()
		}
		return bad("", "Error in IMAP command APPEND: Invalid arguments.")
	}
	switch strings.ToUpper(kw) {
	case "TEXT":
		var lit imapwire.LiteralInfo
		if !dec.Literal8Header(&lit) {
			if dec.Err() != nil {
				return dec.Err()
			}
			return bad("", "Error in IMAP command APPEND: Invalid arguments.")
		}
		if lit.Size > ap.c.srv.opts.MaxAppendSize-int64(buf.Len()) {
			if lit.NonSync {
				return imapwire.ErrLiteralTooLarge
			}
			return no("TOOBIG", "Mail size is larger than the maximum size allowed by server configuration")
		}
		if !lit.NonSync && ap.tx == nil && ap.count == 0 && buf.Len() == 0 {
			if _, err := ap.c.user.Status(ctx, ap.name); err != nil {
				return ap.c.destError("append to "+ap.name, err)
			}
		}
		body, err := dec.LiteralBody(lit)
		if err != nil {
			return err
		}
		if _, err := io.Copy(buf, body); err != nil {
			return err
		}
		return nil
	case "URL":
		var raw string
		if !dec.ExpectAString(&raw) {
			return dec.Err()
		}
		data, err := ap.c.fetchURL(ctx, raw)
		if err != nil {
			return err
		}
		buf.Write(data)
		return nil
	}
	return bad("", "Error in IMAP command APPEND: Invalid arguments.")
}

// imapURL is a relative IMAP URL naming a message or part of one
// (RFC 5092 section 6: imessagepart with RFC 5550's ;PARTIAL).
type imapURL struct {
	mailbox     string
	uidValidity uint32 // 0: not given
	uid         uint32
	section     string
	partial     bool
	offset      int64
	length      int64 // -1: to the end
}

// parseIMAPURL parses what catenate accepts: "[/]mailbox[;UIDVALIDITY=n]
// /;UID=n[/;SECTION=s][/;PARTIAL=o[.l]]". The error text follows Dovecot's.
func parseIMAPURL(s string) (imapURL, string) {
	u := imapURL{length: -1}
	if i := strings.IndexByte(s, ':'); i > 0 && !strings.ContainsAny(s[:i], "/;") {
		return u, "Invalid IMAP URL: Relative URL required"
	}
	s = strings.TrimPrefix(s, "/")
	box, rest, _ := strings.Cut(s, "/;")
	if j := strings.IndexByte(box, ';'); j >= 0 {
		v, ok := cutPrefixFold(box[j+1:], "UIDVALIDITY=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || n == 0 {
			return u, "Invalid IMAP URL: Encountered stray ';' in mailbox reference"
		}
		box, u.uidValidity = box[:j], uint32(n)
	}
	name, err := url.PathUnescape(box)
	if err != nil || name == "" {
		return u, "Invalid IMAP URL: Invalid mailbox name"
	}
	u.mailbox = name
	if strings.EqualFold(name, "INBOX") {
		u.mailbox = "INBOX"
	}
	rest, ok := cutPrefixFold(rest, "UID=")
	if !ok {
		return u, "Invalid IMAP URL: Message UID required"
	}
	segs := strings.Split(rest, "/;")
	n, err := strconv.ParseUint(segs[0], 10, 32)
	if err != nil || n == 0 {
		return u, "Invalid IMAP URL: Invalid message UID"
	}
	u.uid = uint32(n)
	for _, seg := range segs[1:] {
		if msg := u.parseSegment(seg); msg != "" {
			return u, msg
		}
	}
	return u, ""
}

// parseSegment parses ";SECTION=..." or ";PARTIAL=..." (without ";").
func (u *imapURL) parseSegment(seg string) string {
	if v, ok := cutPrefixFold(seg, "SECTION="); ok && u.section == "" && !u.partial {
		sec, err := url.PathUnescape(v)
		if err != nil || sec == "" {
			return "Invalid IMAP URL: Invalid section"
		}
		u.section = sec
		return ""
	}
	if v, ok := cutPrefixFold(seg, "PARTIAL="); ok && !u.partial {
		off, length, hasLen := strings.Cut(v, ".")
		o, err := strconv.ParseInt(off, 10, 64)
		if err != nil || o < 0 {
			return "Invalid IMAP URL: Invalid partial"
		}
		u.partial, u.offset = true, o
		if hasLen {
			l, err := strconv.ParseInt(length, 10, 64)
			if err != nil || l <= 0 {
				return "Invalid IMAP URL: Invalid partial"
			}
			u.length = l
		}
		return ""
	}
	return "Invalid IMAP URL: Unexpected IMAP URL path segment: `;" + seg + "'"
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// fetchURL returns the data an IMAP URL names in the user's own
// mailboxes, or a NO [BADURL url] status.
func (c *conn) fetchURL(ctx context.Context, raw string) ([]byte, error) {
	u, msg := parseIMAPURL(raw)
	if msg != "" {
		return nil, no("BADURL "+raw, msg)
	}
	mb := storage.Mailbox(nil)
	if c.sel != nil && c.sel.name == u.mailbox {
		mb = c.sel.mb
	} else {
		m, err := c.user.Open(ctx, u.mailbox, storage.OpenOptions{ReadOnly: true})
		if err != nil {
			if storage.KindOf(err) == storage.KindNotFound {
				return nil, no("BADURL "+raw, "Mailbox doesn't exist: "+u.mailbox)
			}
			return nil, c.storageError("catenate "+raw, err)
		}
		defer m.Close()
		mb = m
	}
	if u.uidValidity != 0 && u.uidValidity != mb.Status().UIDValidity {
		return nil, no("BADURL "+raw, "Invalid UIDVALIDITY")
	}
	msgs := mb.Messages()
	i := sort.Search(len(msgs), func(i int) bool { return msgs[i].UID >= u.uid })
	if i == len(msgs) || msgs[i].UID != u.uid {
		return nil, no("BADURL "+raw, "Message not found")
	}
	data, err := urlSection(ctx, mb, u)
	if err != nil {
		if storage.KindOf(err) == storage.KindNotFound {
			return nil, no("BADURL "+raw, "Message not found")
		}
		if _, ok := err.(*imapwire.SyntaxError); ok {
			return nil, no("BADURL "+raw, "Invalid IMAP URL: Invalid section")
		}
		return nil, c.storageError("catenate "+raw, err)
	}
	return data, nil
}

// urlSection reads the message a URL names and cuts its section and
// partial range, as FETCH BODY.PEEK[section]<partial> would.
func urlSection(ctx context.Context, mb storage.Mailbox, u imapURL) ([]byte, error) {
	r, err := mb.Open(ctx, u.uid)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data := make([]byte, r.Size())
	if _, err := r.ReadAt(data, 0); err != nil && err != io.EOF {
		return nil, err
	}
	if u.section != "" {
		it, err := parseURLSection(u.section)
		if err != nil {
			return nil, err
		}
		sr, err := locateSection(message.Parse(data), int64(len(data)), it,
			func(s, e int64) ([]byte, error) { return data[s:e], nil })
		switch {
		case err != nil:
			return nil, err
		case !sr.found:
			data = nil
		case sr.useFilter:
			data = sr.filtered
		default:
			data = data[sr.start:sr.end]
		}
	}
	if u.partial {
		s, e := applyPartial(0, int64(len(data)), &fetchItem{partial: true, offset: u.offset, count: u.length})
		data = data[s:e]
	}
	return data, nil
}

// parseURLSection parses a URL's section with FETCH's section parser.
func parseURLSection(sec string) (*fetchItem, error) {
	d := imapwire.NewDecoder(bufio.NewReader(strings.NewReader("BODY.PEEK["+sec+"]\r\n")), imapwire.DecoderOptions{})
	req, err := parseFetchAtts(d, false)
	if err != nil {
		return nil, err
	}
	for i := range req.items {
		if req.items[i].kind == fetchSection {
			return &req.items[i], nil
		}
	}
	return nil, &imapwire.SyntaxError{Msg: "Invalid section"}
}
