package imap

import (
	"cmp"
	"errors"
	"math"
	"slices"
	"strings"
	"time"

	"roost/internal/message"
)

// SortKey is one SORT criterion (RFC 5256 section 3, RFC 5957 section 3).
type SortKey uint8

// The sort keys.
const (
	SortArrival SortKey = iota + 1
	SortCc
	SortDate
	SortFrom
	SortSize
	SortSubject
	SortTo
	SortDisplayFrom
	SortDisplayTo
)

var sortKeyNames = map[string]SortKey{
	"ARRIVAL": SortArrival, "CC": SortCc, "DATE": SortDate, "FROM": SortFrom, "SIZE": SortSize,
	"SUBJECT": SortSubject, "TO": SortTo, "DISPLAYFROM": SortDisplayFrom, "DISPLAYTO": SortDisplayTo,
}

// SortCriterion is a sort key, optionally reversed.
type SortCriterion struct {
	Key     SortKey
	Reverse bool
}

// ErrBadSortCriteria is returned by ParseSortCriteria.
var ErrBadSortCriteria = errors.New("invalid sort criteria")

// ParseSortCriteria parses the atoms of a sort-criteria list ("REVERSE",
// "DATE", …; case-insensitive).
func ParseSortCriteria(atoms []string) ([]SortCriterion, error) {
	var out []SortCriterion
	reverse := false
	for _, a := range atoms {
		u := strings.ToUpper(a)
		if u == "REVERSE" && !reverse {
			reverse = true
			continue
		}
		k, ok := sortKeyNames[u]
		if !ok {
			return nil, ErrBadSortCriteria
		}
		out = append(out, SortCriterion{Key: k, Reverse: reverse})
		reverse = false
	}
	if reverse || len(out) == 0 {
		return nil, ErrBadSortCriteria
	}
	return out, nil
}

// SortFields selects which fields NewSortData computes.
type SortFields uint16

// The fields of SortData, by the sort keys that need them.
const (
	FieldDate SortFields = 1 << iota
	FieldSubject
	FieldFrom
	FieldTo
	FieldCc
	FieldDisplayFrom
	FieldDisplayTo
	FieldThreadIDs // Message-ID and the parent chain (References, In-Reply-To)

	// FieldsThread is what the THREAD algorithms need.
	FieldsThread = FieldDate | FieldSubject | FieldThreadIDs
)

var keyFields = map[SortKey]SortFields{
	SortCc: FieldCc, SortDate: FieldDate, SortFrom: FieldFrom, SortSubject: FieldSubject,
	SortTo: FieldTo, SortDisplayFrom: FieldDisplayFrom, SortDisplayTo: FieldDisplayTo,
}

// FieldsFor returns the fields that sorting by criteria compares.
func FieldsFor(criteria []SortCriterion) SortFields {
	var f SortFields
	for _, c := range criteria {
		f |= keyFields[c.Key]
	}
	return f
}

// SortData is what SORT and THREAD know of one message. NewSortData fills
// it from the message's header block (the cached imap.header field), its
// INTERNALDATE and its RFC822.SIZE; only the fields asked for are set.
// Strings are in i;unicode-casemap form and compare as octets.
type SortData struct {
	Seq, UID uint32
	Arrival  int64 // INTERNALDATE, Unix seconds
	Size     int64 // RFC822.SIZE
	// Date is the first Date field in Unix seconds, or Arrival when it is
	// missing or not a date (RFC 5256 section 3, as Dovecot).
	Date int64
	// Subject is the base subject of the first Subject field (RFC 5256
	// section 2.1), "" when there is none; ReplyOrForward is set when
	// extracting it removed a reply or forward marker.
	Subject        string
	ReplyOrForward bool
	// From, To and Cc are the addr-mailbox of the first address of the
	// first such field; DisplayFrom and DisplayTo its decoded display
	// name, or mailbox@host without one (RFC 5957 section 3), or the
	// group's name when the field starts with a group (as Dovecot).
	From, To, Cc           string
	DisplayFrom, DisplayTo string
	// MessageID is the message's own Message-ID ("" when missing or not
	// valid), Parents the IDs of its References field, or the first ID
	// of In-Reply-To when References has none (RFC 5256 section 4).
	MessageID string
	Parents   []string
}

// NewSortData returns the sort data of one message; header is its header
// block, arrival its INTERNALDATE and size its RFC822.SIZE. The caller
// sets Seq and UID.
func NewSortData(header []byte, arrival time.Time, size int64, fields SortFields) SortData {
	d := SortData{Arrival: arrival.Unix(), Size: size, Date: arrival.Unix()}
	if fields == 0 {
		return d
	}
	hdr := PickFields(header, fieldNames(fields)...)
	value := func(name string) ([]byte, bool) { return message.FieldValue(hdr, name) }
	if fields&FieldDate != 0 {
		if v, ok := value("Date"); ok {
			if t, ok := message.ParseDate(v); ok && t.Unix() != 0 {
				d.Date = t.Unix()
			}
		}
	}
	if fields&FieldSubject != 0 {
		if v, ok := value("Subject"); ok {
			d.Subject, d.ReplyOrForward = BaseSubject(string(v))
		}
	}
	for _, a := range []struct {
		field   SortFields
		name    string
		display bool
		dst     *string
	}{
		{FieldFrom, "From", false, &d.From}, {FieldTo, "To", false, &d.To}, {FieldCc, "Cc", false, &d.Cc},
		{FieldDisplayFrom, "From", true, &d.DisplayFrom}, {FieldDisplayTo, "To", true, &d.DisplayTo},
	} {
		if fields&a.field != 0 {
			if v, ok := value(a.name); ok {
				*a.dst = addressSortKey(v, a.display)
			}
		}
	}
	if fields&FieldThreadIDs != 0 {
		d.MessageID, d.Parents = threadIDs(hdr)
	}
	return d
}

// fieldNames are the header fields NewSortData reads for fields.
func fieldNames(fields SortFields) []string {
	names := make([]string, 0, 6)
	for _, f := range []struct {
		bits SortFields
		name string
	}{
		{FieldDate, "Date"}, {FieldSubject, "Subject"}, {FieldFrom | FieldDisplayFrom, "From"},
		{FieldTo | FieldDisplayTo, "To"}, {FieldCc, "Cc"}, {FieldThreadIDs, "Message-ID"},
		{FieldThreadIDs, "References"}, {FieldThreadIDs, "In-Reply-To"},
	} {
		if fields&f.bits != 0 {
			names = append(names, f.name)
		}
	}
	return names
}

// addressSortKey is the casemapped addr-mailbox (or display name) of the
// first address in an address-list value.
func addressSortKey(v []byte, display bool) string {
	addrs := message.ParseAddressList(v)
	if len(addrs) == 0 {
		return ""
	}
	a := addrs[0]
	if !display {
		return CaseMap(deref(a.Mailbox))
	}
	switch {
	case a.Name != nil:
		return CaseMap(message.DecodedHeaderValue([]byte(*a.Name)))
	case a.Mailbox != nil && a.Domain != nil:
		return CaseMap(*a.Mailbox + "@" + *a.Domain)
	case a.Mailbox != nil: // a group: its name, as Dovecot
		return CaseMap(*a.Mailbox)
	}
	return ""
}

// CompareSortData orders a and b by criteria, then by sequence number
// (RFC 5256 section 3); REVERSE reverses its key only.
func CompareSortData(a, b *SortData, criteria []SortCriterion) int {
	for _, c := range criteria {
		r := compareKey(a, b, c.Key)
		if r != 0 {
			if c.Reverse {
				return -r
			}
			return r
		}
	}
	return cmp.Compare(a.Seq, b.Seq)
}

func compareKey(a, b *SortData, k SortKey) int {
	switch k {
	case SortArrival:
		return cmp.Compare(a.Arrival, b.Arrival)
	case SortDate:
		return cmp.Compare(a.Date, b.Date)
	case SortSize:
		return cmp.Compare(a.Size, b.Size)
	case SortSubject:
		return strings.Compare(a.Subject, b.Subject)
	case SortFrom:
		return strings.Compare(a.From, b.From)
	case SortTo:
		return strings.Compare(a.To, b.To)
	case SortCc:
		return strings.Compare(a.Cc, b.Cc)
	case SortDisplayFrom:
		return strings.Compare(a.DisplayFrom, b.DisplayFrom)
	case SortDisplayTo:
		return strings.Compare(a.DisplayTo, b.DisplayTo)
	}
	return 0
}

// Sort sorts msgs in place by criteria (ties by sequence number).
func Sort(msgs []SortData, criteria []SortCriterion) {
	order := SortOrder(msgs, criteria)
	sorted := make([]SortData, len(msgs))
	for i, k := range order {
		sorted[i] = msgs[k]
	}
	copy(msgs, sorted)
}

// SortOrder returns the indexes of msgs in the order of criteria (ties
// by sequence number), leaving msgs as they are. The first key becomes an
// integer per message (a string key its rank among the distinct values),
// so the sort moves and compares small pointer-free records; later
// criteria are only compared on ties of the first.
func SortOrder(msgs []SortData, criteria []SortCriterion) []int32 {
	order := make([]int32, len(msgs))
	if len(criteria) == 0 {
		for i := range order {
			order[i] = int32(i)
		}
		return order
	}
	first, rest := criteria[0], criteria[1:]
	recs := make([]sortRec, len(msgs))
	for i := range msgs {
		recs[i] = sortRec{seq: msgs[i].Seq, idx: int32(i)}
	}
	sortPrefixes(recs, msgs, first.Key)
	if len(rest) == 0 && packedOrder(order, recs, first.Reverse) {
		return order
	}
	slices.SortFunc(recs, func(a, b sortRec) int {
		r := cmp.Compare(a.pre, b.pre)
		if first.Reverse {
			r = -r
		}
		if r != 0 {
			return r
		}
		if len(rest) > 0 {
			return CompareSortData(&msgs[a.idx], &msgs[b.idx], rest)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for i, r := range recs {
		order[i] = r.idx
	}
	return order
}

// SortNumbers is the part of SortData that the numeric keys (ARRIVAL,
// DATE, SIZE) compare: 32 bytes a message instead of SortData's 176, for
// a SORT of a large mailbox by them (SortOrderNumbers).
type SortNumbers struct {
	Seq, UID            uint32
	Arrival, Size, Date int64
}

// Numbers returns the numeric part of d.
func (d *SortData) Numbers() SortNumbers {
	return SortNumbers{Seq: d.Seq, UID: d.UID, Arrival: d.Arrival, Size: d.Size, Date: d.Date}
}

// NumericOnly reports whether criteria compare numeric keys only, so that
// SortOrderNumbers can order by them.
func NumericOnly(criteria []SortCriterion) bool {
	for _, c := range criteria {
		switch c.Key {
		case SortArrival, SortDate, SortSize:
		default:
			return false
		}
	}
	return true
}

// SortOrderNumbers is SortOrder for criteria of numeric keys only
// (NumericOnly): the order SortOrder gives messages with these numbers.
func SortOrderNumbers(msgs []SortNumbers, criteria []SortCriterion) []int32 {
	order := make([]int32, len(msgs))
	if len(criteria) == 0 {
		for i := range order {
			order[i] = int32(i)
		}
		return order
	}
	first, rest := criteria[0], criteria[1:]
	recs := make([]sortRec, len(msgs))
	for i := range msgs {
		pre := uint64(numberKey(&msgs[i], first.Key)) ^ 1<<63 // signed order as unsigned
		recs[i] = sortRec{pre: pre, seq: msgs[i].Seq, idx: int32(i)}
	}
	if len(rest) == 0 && packedOrder(order, recs, first.Reverse) {
		return order
	}
	slices.SortFunc(recs, func(a, b sortRec) int {
		r := cmp.Compare(a.pre, b.pre)
		if first.Reverse {
			r = -r
		}
		if r != 0 {
			return r
		}
		x, y := &msgs[a.idx], &msgs[b.idx]
		for _, c := range rest {
			if r := cmp.Compare(numberKey(x, c.Key), numberKey(y, c.Key)); r != 0 {
				if c.Reverse {
					return -r
				}
				return r
			}
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for i, r := range recs {
		order[i] = r.idx
	}
	return order
}

// SortString is a message's value of one string sort key (SortData's
// KeyString): 24 bytes a message, for a SORT by that key alone
// (SortOrderStrings).
type SortString struct {
	Seq, UID uint32
	Key      string
}

// KeyString returns the value of string key k ("" for a numeric key).
func (d *SortData) KeyString(k SortKey) string { return keyString(d, k) }

// StringOnly reports whether criteria are one string key, so that
// SortOrderStrings can order by it.
func StringOnly(criteria []SortCriterion) bool {
	return len(criteria) == 1 && !NumericOnly(criteria)
}

// SortOrderStrings is SortOrder for one string key (StringOnly), over the
// messages' values of it.
func SortOrderStrings(msgs []SortString, reverse bool) []int32 {
	order := make([]int32, len(msgs))
	recs := make([]sortRec, len(msgs))
	for i := range msgs {
		recs[i] = sortRec{seq: msgs[i].Seq, idx: int32(i)}
	}
	rankStrings(recs, func(idx int32) string { return msgs[idx].Key })
	if packedOrder(order, recs, reverse) {
		return order
	}
	slices.SortFunc(recs, func(a, b sortRec) int {
		r := cmp.Compare(a.pre, b.pre)
		if reverse {
			r = -r
		}
		if r != 0 {
			return r
		}
		return cmp.Compare(a.seq, b.seq)
	})
	for i, r := range recs {
		order[i] = r.idx
	}
	return order
}

// numberKey is the value of a numeric key.
func numberKey(d *SortNumbers, k SortKey) int64 {
	switch k {
	case SortArrival:
		return d.Arrival
	case SortDate:
		return d.Date
	case SortSize:
		return d.Size
	}
	return 0
}

// packedOrder sorts by one key when the key's span fits 32 bits and
// sequence numbers ascend with the index: a stable radix sort of the
// key then leaves ties in sequence order. It reports false, with order
// untouched, when they do not.
func packedOrder(order []int32, recs []sortRec, reverse bool) bool {
	if len(recs) == 0 {
		return true
	}
	lo, hi := recs[0].pre, recs[0].pre
	for i := range recs {
		lo, hi = min(lo, recs[i].pre), max(hi, recs[i].pre)
		if i > 0 && recs[i].seq <= recs[i-1].seq || recs[i].idx != int32(i) {
			return false
		}
	}
	if hi-lo > math.MaxUint32 {
		return false
	}
	keys := make([]uint32, len(recs))
	for i, r := range recs {
		keys[i] = uint32(r.pre - lo)
		if reverse {
			keys[i] = uint32(hi - r.pre)
		}
		order[i] = r.idx
	}
	radixSort(order, keys, uint32(hi-lo))
	return true
}

// radixSort sorts order by keys (keys[i] belongs to order[i]), stably:
// counting passes over 16-bit digits for large inputs, max being the
// largest key; a comparison sort of key and position for small ones.
func radixSort(order []int32, keys []uint32, max uint32) {
	if len(order) < 1<<12 {
		packed := make([]uint64, len(order))
		for i := range packed {
			packed[i] = uint64(keys[i])<<32 | uint64(i)
		}
		slices.Sort(packed)
		out := slices.Clone(order)
		for i, p := range packed {
			order[i] = out[uint32(p)]
		}
		return
	}
	out := order
	tmpOrder, tmpKeys := make([]int32, len(order)), make([]uint32, len(keys))
	count := make([]int, 1<<16)
	for shift := uint(0); shift == 0 || shift < 32 && max>>shift != 0; shift += 16 {
		clear(count)
		for _, k := range keys {
			count[k>>shift&0xffff]++
		}
		pos := 0
		for d, c := range count {
			count[d] = pos
			pos += c
		}
		for i, k := range keys {
			d := k >> shift & 0xffff
			tmpOrder[count[d]], tmpKeys[count[d]] = order[i], k
			count[d]++
		}
		order, tmpOrder = tmpOrder, order
		keys, tmpKeys = tmpKeys, keys
	}
	copy(out, order)
}

// sortRec is one message's first sort key during SortOrder: pre orders
// as the key does (a number, or a string's rank), so every comparison of
// the first key is one integer compare.
type sortRec struct {
	pre uint64
	seq uint32
	idx int32
}

// sortPrefixes sets recs[i].pre from msgs[recs[i].idx] for key k. A
// string key is ranked: messages share few distinct values (a thread's
// base subject, a sender), so sorting the distinct values once replaces
// most string comparisons.
func sortPrefixes(recs []sortRec, msgs []SortData, k SortKey) {
	switch k {
	case SortArrival, SortDate, SortSize:
		for i := range recs {
			recs[i].pre = uint64(keyNumber(&msgs[recs[i].idx], k)) ^ 1<<63 // signed order as unsigned
		}
		return
	}
	rankStrings(recs, func(idx int32) string { return keyString(&msgs[idx], k) })
}

// rankStrings sets recs[i].pre to the rank of key(recs[i].idx) among the
// distinct values.
func rankStrings(recs []sortRec, key func(idx int32) string) {
	slot := make(map[string]uint32) // value -> index in distinct
	var distinct []string
	for i := range recs {
		s := key(recs[i].idx)
		n, ok := slot[s]
		if !ok {
			n = uint32(len(distinct))
			slot[s] = n
			distinct = append(distinct, s)
		}
		recs[i].pre = uint64(n)
	}
	bySlot := make([]uint32, len(distinct))
	for i := range bySlot {
		bySlot[i] = uint32(i)
	}
	slices.SortFunc(bySlot, func(a, b uint32) int { return strings.Compare(distinct[a], distinct[b]) })
	rank := make([]uint32, len(distinct)) // slot -> rank
	for r, n := range bySlot {
		rank[n] = uint32(r)
	}
	for i := range recs {
		recs[i].pre = uint64(rank[recs[i].pre])
	}
}

// keyNumber is the value of a numeric key (0 for string keys).
func keyNumber(d *SortData, k SortKey) int64 {
	switch k {
	case SortArrival:
		return d.Arrival
	case SortDate:
		return d.Date
	case SortSize:
		return d.Size
	}
	return 0
}

// keyString is the value of a string key ("" for numeric keys).
func keyString(d *SortData, k SortKey) string {
	switch k {
	case SortSubject:
		return d.Subject
	case SortFrom:
		return d.From
	case SortTo:
		return d.To
	case SortCc:
		return d.Cc
	case SortDisplayFrom:
		return d.DisplayFrom
	case SortDisplayTo:
		return d.DisplayTo
	}
	return ""
}
