package imapserver

import (
	"context"
	"slices"
	"strings"
	"time"

	"roost/internal/imap"
	"roost/internal/message"
	"roost/internal/storage"
)

// searcher evaluates a search program against the messages of a view.
type searcher struct {
	mb     storage.Mailbox
	list   storage.MessageLister // the view, read message by message
	n      int                   // messages in the view
	cur    int                   // index of msg, or -1
	msg    storage.Message       // the message last read by msgAt
	loc    *time.Location        // zone of INTERNALDATE dates (Dovecot: the server's)
	now    time.Time
	maxUID uint32
	texts  *textCache // may be nil
	saved  []uint32   // $ (RFC 5182), UIDs ascending
	memo   headerMemo // header key results by raw field value
}

// newSearcher reads the view of mb message by message (a large mailbox
// then costs no storage.Message per message for the search).
func newSearcher(mb storage.Mailbox, loc *time.Location, now time.Time) *searcher {
	l, ok := mb.(storage.MessageLister)
	if !ok {
		l = messageList(mb.Messages())
	}
	s := &searcher{mb: mb, list: l, n: l.Len(), cur: -1, loc: loc, now: now}
	if s.n > 0 {
		s.maxUID = l.UIDAt(s.n - 1)
	}
	return s
}

// messageList is a storage.MessageLister over Messages().
type messageList []storage.Message

func (l messageList) Len() int                        { return len(l) }
func (l messageList) UIDAt(i int) uint32              { return l[i].UID }
func (l messageList) MessageAt(i int) storage.Message { return l[i] }

// uidAt is the UID of message index i.
func (s *searcher) uidAt(i int) uint32 { return s.list.UIDAt(i) }

// msgAt is message index i, read once for the keys of one message.
func (s *searcher) msgAt(i int) *storage.Message {
	if s.cur != i {
		s.msg, s.cur = s.list.MessageAt(i), i
	}
	return &s.msg
}

// run returns the indexes of the matching messages, in order.
func (s *searcher) run(ctx context.Context, prog *searchKey) ([]int, error) {
	if matchesAll(prog) {
		return allIndexes(s.n), nil
	}
	var out []int
	var ahead *headerAhead
	names := headerNames(prog, nil)
	if names != nil {
		ahead = newHeaderAhead(s.mb, s.n, s.uidAt)
		if ahead != nil {
			ahead.pick = names // md.names: headerFields picks these fields only
		}
	}
	for i := range s.n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		md := &msgData{mb: s.mb, uid: s.uidAt(i), block: ahead.block(ctx, i), names: names}
		md.parts, _ = s.texts.get(md.uid)
		ok, err := s.match(ctx, prog, i, md)
		md.close()
		s.texts.put(md.uid, md.parts)
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
		return k.set.Contains(uint32(i+1), uint32(s.n)), nil
	case opUIDSet:
		return k.set.Contains(s.uidAt(i), s.maxUID), nil
	case opSaved:
		_, ok := slices.BinarySearch(s.saved, s.uidAt(i))
		return ok, nil
	case opFlag:
		return msgHasFlag(s.msgAt(i).Flags, k.str), nil
	case opKeyword:
		return hasKeyword(s.msgAt(i).Flags, k.str), nil
	case opRecent:
		return s.msgAt(i).Recent, nil
	case opLarger:
		return uint64(s.msgAt(i).Size) > k.num, nil
	case opSmaller:
		return uint64(s.msgAt(i).Size) < k.num, nil
	case opModSeq:
		return s.msgAt(i).ModSeq >= k.num, nil
	case opOlder:
		return !s.msgAt(i).InternalDate.After(s.now.Add(-time.Duration(k.num) * time.Second)), nil
	case opYounger:
		return !s.msgAt(i).InternalDate.Before(s.now.Add(-time.Duration(k.num) * time.Second)), nil
	case opBefore, opOn, opSince:
		return compareDate(k.op-opBefore, s.msgAt(i).InternalDate.In(s.loc), k.date), nil
	case opSavedBefore, opSavedOn, opSavedSince:
		return compareDate(k.op-opSavedBefore, s.msgAt(i).SaveDate.In(s.loc), k.date), nil
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

// matchSent evaluates SENTBEFORE, SENTON and SENTSINCE as Dovecot 2.3
// does (index-search.c with index-mail's struct mail_sent_date): the first
// Date: field as seconds since the epoch, stored in 32 bits (dates before
// 1970 and after 2106 wrap), plus the field's zone offset, compared with
// midnight of the key's day in the server's zone. A missing or invalid
// Date: is time 0 in UTC.
func (s *searcher) matchSent(ctx context.Context, k *searchKey, md *msgData) (bool, error) {
	fields, err := md.headerFields(ctx)
	if err != nil {
		return false, err
	}
	sent := sentTime(fields)
	day := time.Date(k.date.Year(), k.date.Month(), k.date.Day(), 0, 0, 0, 0, s.loc).Unix()
	switch k.op {
	case opSentBefore:
		return sent < day, nil
	case opSentOn:
		return sent >= day && sent < day+secondsPerDay, nil
	}
	return sent >= day, nil
}

const secondsPerDay = 24 * 60 * 60

// sentTime is the Date: field's time as Dovecot compares it: uint32
// seconds plus the zone offset.
func sentTime(fields []message.Field) int64 {
	var t, tz int64
	if v, ok := message.FieldValue(fields, "Date"); ok {
		if d, ok := message.ParseDate(v); ok {
			_, off := d.Zone()
			t, tz = d.Unix(), int64(off)
		}
	}
	return int64(uint32(t)) + tz
}

// matchText evaluates HEADER (FROM, TO, ...), BODY and TEXT: substring
// matches on decoded (RFC 2047, transfer encoding, charset) text.
func (s *searcher) matchText(ctx context.Context, k *searchKey, md *msgData) (bool, error) {
	switch k.op {
	case opHeader:
		fields, err := md.headerFields(ctx)
		if err != nil {
			return false, err
		}
		return s.memo.matchHeader(fields, k), nil
	case opBody, opText:
		if k.folded == "" {
			return true, nil
		}
		parts, err := md.searchParts(ctx)
		if err != nil {
			return false, err
		}
		for _, p := range parts {
			if strings.Contains(p.body, k.folded) || k.op == opText && containsAcross(p.header, p.body, k.folded) {
				return true, nil
			}
		}
	}
	return false, nil
}

// headerMemo remembers, per header key of one search, whether a raw
// field value matched: the decoding, address rewriting and folding of
// headerSearchValue depend on the value alone, and a mailbox repeats
// values (senders, thread subjects) many times.
type headerMemo map[*searchKey]map[string]bool

// Bounds of a headerMemo: values longer than maxMemoValue, or past
// maxMemoValues per key, are evaluated every time.
const (
	maxMemoValue  = 512
	maxMemoValues = 16384
)

// matchHeader matches the fields named k.field. An empty search string
// only tests that such a field exists.
func (m *headerMemo) matchHeader(fields []message.Field, k *searchKey) bool {
	for _, f := range fields {
		if !strings.EqualFold(string(f.Name), k.field) {
			continue
		}
		if k.folded == "" || !cannotContain(f.Value, k) && m.contains(f.Value, k) {
			return true
		}
	}
	return false
}

// contains reports whether the searchable form of a raw field value
// contains k's search string.
func (m *headerMemo) contains(v []byte, k *searchKey) bool {
	seen := (*m)[k]
	if r, ok := seen[string(v)]; ok {
		return r
	}
	r := strings.Contains(headerSearchValue(v, k.hdrKind), k.folded)
	if len(v) <= maxMemoValue && len(seen) < maxMemoValues {
		if seen == nil {
			if *m == nil {
				*m = headerMemo{}
			}
			seen = map[string]bool{}
			(*m)[k] = seen
		}
		seen[string(v)] = r
	}
	return r
}
