package imapserver

import (
	"context"
	"strings"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"roost/internal/imap"
	"roost/internal/message"
	"roost/internal/storage"
)

// searcher evaluates a search program against the messages of a view.
type searcher struct {
	mb     storage.Mailbox
	msgs   []storage.Message
	loc    *time.Location // zone of INTERNALDATE dates (Dovecot: the server's)
	now    time.Time
	maxUID uint32
}

func newSearcher(mb storage.Mailbox, loc *time.Location, now time.Time) *searcher {
	s := &searcher{mb: mb, msgs: mb.Messages(), loc: loc, now: now}
	if n := len(s.msgs); n > 0 {
		s.maxUID = s.msgs[n-1].UID
	}
	return s
}

// run returns the indexes of the matching messages, in order.
func (s *searcher) run(ctx context.Context, prog *searchKey) ([]int, error) {
	var out []int
	for i := range s.msgs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		md := &msgData{mb: s.mb, uid: s.msgs[i].UID}
		ok, err := s.match(ctx, prog, i, md)
		md.close()
		if err != nil {
			if storage.KindOf(err) == storage.KindExpunged {
				continue // expunged under us: not a match
			}
			return nil, err
		}
		if ok {
			out = append(out, i)
		}
	}
	return out, nil
}

// match evaluates k for message index i.
func (s *searcher) match(ctx context.Context, k *searchKey, i int, md *msgData) (bool, error) {
	msg := &s.msgs[i]
	switch k.op {
	case opAnd:
		for _, sub := range k.sub {
			if ok, err := s.match(ctx, sub, i, md); !ok || err != nil {
				return false, err
			}
		}
		return true, nil
	case opOr:
		if ok, err := s.match(ctx, k.sub[0], i, md); ok || err != nil {
			return ok, err
		}
		return s.match(ctx, k.sub[1], i, md)
	case opNot:
		ok, err := s.match(ctx, k.sub[0], i, md)
		return !ok && err == nil, err
	case opSeqSet:
		return k.set.Contains(uint32(i+1), uint32(len(s.msgs))), nil
	case opUIDSet:
		return k.set.Contains(msg.UID, s.maxUID), nil
	case opFlag:
		return msgHasFlag(msg.Flags, k.str), nil
	case opKeyword:
		return hasKeyword(msg.Flags, k.str), nil
	case opRecent:
		return msg.Recent, nil
	case opLarger:
		return uint64(msg.Size) > k.num, nil
	case opSmaller:
		return uint64(msg.Size) < k.num, nil
	case opModSeq:
		return msg.ModSeq >= k.num, nil
	case opOlder:
		return !msg.InternalDate.After(s.now.Add(-time.Duration(k.num) * time.Second)), nil
	case opYounger:
		return !msg.InternalDate.Before(s.now.Add(-time.Duration(k.num) * time.Second)), nil
	case opBefore, opOn, opSince:
		return compareDate(k.op-opBefore, msg.InternalDate.In(s.loc), k.date), nil
	case opSentBefore, opSentOn, opSentSince:
		return s.matchSent(ctx, k, md)
	}
	return s.matchText(ctx, k, md)
}

func msgHasFlag(flags []string, f string) bool {
	for _, x := range flags {
		if x == f {
			return true
		}
	}
	return false
}

func hasKeyword(flags []string, kw string) bool {
	for _, x := range flags {
		if !imap.IsSystemFlag(x) && strings.EqualFold(x, kw) {
			return true
		}
	}
	return false
}

// compareDate compares the date part of t (in its own zone) with day, a
// midnight UTC date: rel 0 is BEFORE, 1 ON, 2 SINCE.
func compareDate(rel searchOp, t, day time.Time) bool {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch rel {
	case 0:
		return d.Before(day)
	case 1:
		return d.Equal(day)
	}
	return !d.Before(day)
}

// matchSent compares the Date: header's date, in the header's own zone
// (RFC 3501 section 6.4.4: "disregarding time and timezone"). A message
// without a parsable Date: matches none of SENTBEFORE, SENTON, SENTSINCE.
func (s *searcher) matchSent(ctx context.Context, k *searchKey, md *msgData) (bool, error) {
	root, data, err := md.parsed(ctx)
	if err != nil {
		return false, err
	}
	fields := message.ParseHeader(data[root.Offset:root.BodyOffset()])
	v, ok := message.FieldValue(fields, "Date")
	if !ok {
		return false, nil
	}
	t, ok := message.ParseDate(v)
	if !ok {
		return false, nil
	}
	return compareDate(k.op-opSentBefore, t, k.date), nil
}

// fold normalises text for i;unicode-casemap-like comparison (RFC 5051:
// case folding plus compatibility decomposition).
func fold(s string) string {
	return norm.NFKD.String(cases.Fold().String(s))
}

// matchText evaluates HEADER (FROM, TO, ...), BODY and TEXT: substring
// matches on decoded (RFC 2047, transfer encoding, charset) text.
func (s *searcher) matchText(ctx context.Context, k *searchKey, md *msgData) (bool, error) {
	root, data, err := md.parsed(ctx)
	if err != nil {
		return false, err
	}
	needle := fold(k.str)
	switch k.op {
	case opHeader:
		found := false
		for _, f := range message.ParseHeader(data[root.Offset:root.BodyOffset()]) {
			if !strings.EqualFold(string(f.Name), k.field) {
				continue
			}
			found = true
			if needle == "" || strings.Contains(fold(message.DecodedHeaderValue(f.Value)), needle) {
				return true, nil
			}
		}
		return found && needle == "", nil
	case opBody:
		return needle == "" || strings.Contains(md.bodyText(), needle), nil
	case opText:
		return needle == "" || strings.Contains(md.headerText(), needle) ||
			strings.Contains(md.bodyText(), needle), nil
	}
	return false, nil
}

// bodyText returns the folded, decoded text of every leaf part.
func (m *msgData) bodyText() string {
	if m.body != nil {
		return *m.body
	}
	var b strings.Builder
	m.root.Walk(func(p *message.Part) {
		if len(p.Children) > 0 {
			return
		}
		dec, err := message.DecodeBodyPart(m.data, p)
		if err != nil {
			return
		}
		b.WriteString(strings.ToValidUTF8(string(dec), "\uFFFD"))
		b.WriteByte('\n')
	})
	t := fold(b.String())
	m.body = &t
	return t
}

// headerText returns the folded, decoded header fields of every part
// (the message's and MIME parts' headers), one "Name: value" per line.
func (m *msgData) headerText() string {
	if m.header != nil {
		return *m.header
	}
	var b strings.Builder
	m.root.Walk(func(p *message.Part) {
		for _, f := range message.ParseHeader(m.data[p.Offset:p.BodyOffset()]) {
			b.Write(f.Name)
			b.WriteString(": ")
			b.WriteString(message.DecodedHeaderValue(f.Value))
			b.WriteByte('\n')
		}
	})
	t := fold(b.String())
	m.header = &t
	return t
}
